import JSON

/// Protected values (flowspool-spool(5)): masked wherever inputs or outputs are shown.
public enum Protection {
    /// Inputs that are secret whatever the task type.
    public static let secretInputs: Set<String> = ["password", "key", "passphrase", "aws_secret_access_key", "aws_session_token"]
    public static let mask: JSON = "****"

    /// The inputs that are never shown: the secret ones and those named in `protect_inputs`.
    public static func protectedInputs(_ inputs: JSONObject) -> Set<String> {
        secretInputs.union(names(in: inputs["protect_inputs"]))
    }

    /// The outputs that are never shown: those named in the inputs' `protect_outputs`.
    public static func protectedOutputs(_ inputs: JSONObject) -> Set<String> {
        names(in: inputs["protect_outputs"])
    }

    /// Inputs with the protected ones masked, at any depth (a flow's `inputs` may hold a password),
    /// and user and password taken out of URLs.
    public static func maskedInputs(_ inputs: JSONObject) -> JSONObject {
        masking(inputs, protected: protectedInputs(inputs))
    }

    static func masking(_ object: JSONObject, protected: Set<String>) -> JSONObject {
        JSONObject(object.map { ($0.key, protected.contains($0.key) ? mask : masking($0.value, protected: protected)) })
    }

    static func masking(_ value: JSON, protected: Set<String>) -> JSON {
        switch value {
        case .object(let object): .object(masking(object, protected: protected))
        case .array(let elements): .array(elements.map { masking($0, protected: protected) })
        case .string(let text): .string(redactingUserInfo(text))
        default: value
        }
    }

    /// Outputs with those named in the inputs' `protect_outputs` masked.
    public static func maskedOutputs(_ outputs: JSONObject, inputs: JSONObject) -> JSONObject {
        let protected = protectedOutputs(inputs)
        return JSONObject(outputs.map { ($0.key, protected.contains($0.key) ? mask : $0.value) })
    }

    /// A URL with its user and password replaced by `****`; any other text as it is.
    public static func redactingUserInfo(_ text: String) -> String {
        let parts = text.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].hasSuffix(":"), !parts[0].contains(" "), parts[1].isEmpty,
              let at = parts[2].lastIndex(of: "@") else { return text }
        var redacted = parts
        redacted[2] = "****@" + parts[2][parts[2].index(after: at)...]
        return redacted.joined(separator: "/")
    }

    static func names(in list: JSON?) -> Set<String> {
        Set(list?.arrayValue?.compactMap(\.stringValue) ?? [])
    }
}

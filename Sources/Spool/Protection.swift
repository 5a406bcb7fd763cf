import JSON

/// Protected values (DESIGN rule 10): masked wherever inputs or outputs are shown.
public enum Protection {
    /// Inputs that are secret whatever the task type.
    public static let secretInputs: Set<String> = ["password", "key", "passphrase", "aws_secret_access_key"]
    public static let mask: JSON = "****"

    /// Inputs with the secret ones and those named in `protect_inputs` replaced by the mask.
    public static func maskedInputs(_ inputs: JSONObject) -> JSONObject {
        let named = names(in: inputs["protect_inputs"])
        return masking(inputs) { secretInputs.contains($0) || named.contains($0) }
    }

    /// Outputs with those named in the inputs' `protect_outputs` replaced by the mask.
    public static func maskedOutputs(_ outputs: JSONObject, inputs: JSONObject) -> JSONObject {
        let named = names(in: inputs["protect_outputs"])
        return masking(outputs) { named.contains($0) }
    }

    static func names(in list: JSON?) -> Set<String> {
        Set(list?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    static func masking(_ object: JSONObject, where isProtected: (String) -> Bool) -> JSONObject {
        JSONObject(object.map { ($0.key, isProtected($0.key) ? mask : $0.value) })
    }
}

import CZlib

/// A gzip stream that zlib could not inflate.
public struct GzipError: Error, CustomStringConvertible {
    public let description: String
}

/// gunzip with zlib. The unsafe pointers stay in here.
public enum Gzip {
    /// The bytes a gzip file holds; at most `limit` of them.
    public static func decompress(_ compressed: [UInt8], limit: Int = 256 << 20) throws(GzipError) -> [UInt8] {
        var stream = z_stream()
        guard flowspool_inflate_init_gzip(&stream) == Z_OK else { throw GzipError(description: "inflateInit2 failed") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var input = compressed
        let status: Int32 = input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            while true {
                let result = chunk.withUnsafeMutableBufferPointer { target -> Int32 in
                    stream.next_out = target.baseAddress
                    stream.avail_out = UInt32(target.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output += chunk.prefix(chunk.count - Int(stream.avail_out))
                if result == Z_STREAM_END { return Z_OK }
                if result != Z_OK || output.count > limit { return result == Z_OK ? Z_MEM_ERROR : result }
                if stream.avail_in == 0 && stream.avail_out != 0 { return Z_DATA_ERROR }
            }
        }
        guard status == Z_OK else {
            throw GzipError(description: output.count > limit ? "more than \(limit) bytes once inflated" : "not a complete gzip stream (zlib error \(status))")
        }
        return output
    }
}

/// CRC-32 (ISO 3309, as gzip and S3's x-amz-checksum-crc32 use it).
public enum CRC32 {
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            UInt32(crc32(0, buffer.baseAddress, UInt32(buffer.count)))
        }
    }
}

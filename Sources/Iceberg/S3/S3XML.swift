import Foundation

/// The little XML S3 speaks back to us: error documents (`<Error><Code>…</Code><Message>…`), the upload id
/// of a new multipart upload, and the request body that completes one. S3's replies are flat, so finding an
/// element by name is enough; no general XML parser is needed.
enum S3XML {
    /// The text of the first `<name>…</name>` element in `document`, entities decoded; nil when absent.
    static func firstElement(_ name: String, in document: String) -> String? {
        guard let open = document.range(of: "<\(name)>"),
            let close = document.range(of: "</\(name)>", range: open.upperBound..<document.endIndex)
        else { return nil }
        return unescape(String(document[open.upperBound..<close.lowerBound]))
    }

    /// `true` when the document's root element is `<Error>` (S3 can answer 200 with an error document to
    /// CompleteMultipartUpload, so the status alone does not tell success).
    static func isErrorDocument(_ document: String) -> Bool {
        var body = Substring(document)
        if let declarationEnd = body.range(of: "?>"), body.hasPrefix("<?xml") {
            body = body[declarationEnd.upperBound...]
        }
        return body.drop(while: { $0.isWhitespace }).hasPrefix("<Error>")
    }

    static func completeMultipartUpload(etags: [String]) -> String {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for (index, etag) in etags.enumerated() {
            xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(escape(etag))</ETag></Part>"
        }
        return xml + "</CompleteMultipartUpload>"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(ch)
            }
        }
        return out
    }

    static func unescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&#34;", with: "\"")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}

import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Reads ListObjectsV2 answers and S3 error bodies.
final class ListingParser: NSObject, XMLParserDelegate {
    private(set) var objects: [StoredObject] = []
    private(set) var nextToken: String?
    private(set) var errorCode: String?
    private var text = ""
    private var current: StoredObject?

    static func parse(_ data: Data) -> (objects: [StoredObject], nextToken: String?) {
        let delegate = ListingParser()
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        _ = parser.parse()
        return (delegate.objects, delegate.nextToken)
    }

    static func errorCode(in body: String) -> String? {
        let delegate = ListingParser()
        let parser = XMLParser(data: Data(body.utf8))
        parser.delegate = delegate
        _ = parser.parse()
        return delegate.errorCode
    }

    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }

    func parser(
        _ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        text = ""
        if element == "Contents" { current = StoredObject(key: "", size: 0) }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
        switch element {
        case "Key": current?.key = text
        case "Size": current?.size = Int64(text) ?? 0
        case "LastModified": current?.lastModified = Self.date(text)
        case "Contents":
            if let current { objects.append(current) }
            current = nil
        case "NextContinuationToken": nextToken = text.isEmpty ? nil : text
        case "Code": errorCode = text
        default: break
        }
    }
}

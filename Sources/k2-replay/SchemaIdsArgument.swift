import ArgumentParser
import Bronze

/// `--schema-id`: one id for every exchange (N), or one per exchange (binance=N,kraken=M); nil without it.
/// Shared by `replay` and `burn-in`.
enum SchemaIdsArgument {
    static func parse(_ text: String?) throws -> [BronzeExchange: Int32]? {
        guard let text else { return nil }
        if let single = Int32(text) { return Dictionary(uniqueKeysWithValues: BronzeExchange.allCases.map { ($0, single) }) }
        var ids: [BronzeExchange: Int32] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=")
            guard pair.count == 2, let exchange = BronzeExchange(rawValue: String(pair[0])), let id = Int32(pair[1]) else {
                throw ValidationError("--schema-id expects N or binance=N,kraken=M, got \(text)")
            }
            ids[exchange] = id
        }
        return ids
    }
}

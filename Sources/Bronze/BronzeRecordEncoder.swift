import Avro
import Exchanges

/// One Kafka record made from a captured frame; `value` is only valid inside the `emit` call.
public struct BronzeRecordView {
    public var exchange: BronzeExchange
    /// K2's key: the Binance symbol or the Kraken pair, as UTF-8.
    public var key: String
    public var value: UnsafeRawBufferPointer
    /// The trade's position within its frame (Kraken frames carry several); 0 for one-record frames.
    public var tradeIndex: Int
}

/// Why a data frame gave no record.
public enum BronzeSkipReason: String, Sendable {
    /// Valid frame of another kind: heartbeat, status, subscription reply, another channel.
    case notATrade = "not-a-trade"
    /// The frame is not parseable JSON of the expected shape (kept byte-exact in the log, not replayable as Avro/JSON).
    case malformed
    /// The record's source is not an exchange this encoder knows.
    case unknownSource = "unknown-source"
}

/// Turns captured exchange frames into K2's Kafka values (docs/k2-platform.md §2), reusing one buffer.
/// Deterministic: `ingestion_timestamp` is the capture receive time in microseconds.
public struct BronzeRecordEncoder {
    public let format: BronzeValueFormat
    public let schemaIds: [BronzeExchange: Int32]
    private var avro = AvroBinaryEncoder(capacity: 512)
    private var json: [UInt8] = []
    /// The value being built by the direct Binance path.
    private var scratch = [UInt8](repeating: 0, count: 1024)
    /// The Binance trade being encoded, filled in place by the scan.
    private var spans = BinanceTradeSpans()
    private var symbolKeys = KeyStrings()
    /// The 5-byte Confluent prefix per exchange, built once.
    private let confluentPrefix: [[UInt8]]
    /// Added to every Binance trade id (`t`): a re-stamped replay pass makes its trades distinct from the
    /// previous passes' (Kraken's K2 value carries no trade id). 0: the trade ids as captured.
    public var tradeIdOffset: Int64 = 0

    /// `schemaIds` is required (per exchange) for `.avroConfluent`.
    public init(format: BronzeValueFormat, schemaIds: [BronzeExchange: Int32] = [:]) {
        self.format = format
        self.schemaIds = schemaIds
        confluentPrefix = [BronzeExchange.binance, .kraken].map { exchange in
            let id = UInt32(bitPattern: schemaIds[exchange] ?? 0)
            return [0x00, UInt8(id >> 24), UInt8((id >> 16) & 0xFF), UInt8((id >> 8) & 0xFF), UInt8(id & 0xFF)]
        }
        json.reserveCapacity(512)
    }

    /// Emits the records of one data frame and returns how many; when none, `skip` says why.
    @discardableResult
    public mutating func encode(source: String, stream: String, payload: [UInt8], receiveTimeNanos: Int64,
                                skip: ((BronzeSkipReason, Error?) -> Void)? = nil,
                                emit: (BronzeRecordView) throws -> Void) throws -> Int {
        try payload.withUnsafeBytes {
            try encode(source: source, stream: stream, payload: $0, receiveTimeNanos: receiveTimeNanos, skip: skip, emit: emit)
        }
    }

    /// `encode` of a frame that lives elsewhere (a segment reader's block buffer): the frame is scanned where it
    /// lies and nothing of it is copied before `emit`.
    @discardableResult
    public mutating func encode(source: String, stream: String, payload: UnsafeRawBufferPointer, receiveTimeNanos: Int64,
                                skip: ((BronzeSkipReason, Error?) -> Void)? = nil,
                                emit: (BronzeRecordView) throws -> Void) throws -> Int {
        guard let exchange = BronzeExchange(source: source) else {
            skip?(.unknownSource, nil)
            return 0
        }
        if format == .raw {
            let key = exchange == .binance ? BronzeRecordEncoder.binanceSymbol(stream: stream) : stream
            try emit(BronzeRecordView(exchange: exchange, key: key, value: payload, tradeIndex: 0))
            return 1
        }
        let micros = receiveTimeNanos / 1000   // floor division is fine: receive times are after 1970
        let schemaId = exchange == .binance ? 0 : 1
        let frame = payload.assumingMemoryBound(to: UInt8.self)
        do {
            switch source {
            case "binance":
                switch try BinanceTradeEvent.scanTrade(frame, into: &spans) {
                case .notATrade: skip?(.notATrade, nil); return 0
                case .trade:
                    try emitBinance(frame: frame, micros: micros, emit)
                    return 1
                case .needsDecoding: break
                }
                // An escaped or non-ASCII string: decode the event, then encode its text.
                guard let event = try BinanceTradeEvent.parse(frame) else { skip?(.notATrade, nil); return 0 }
                if format == .json {
                    let slice = UnsafeRawBufferPointer(rebasing: payload[event.eventRange])
                    try emitBinanceJSON(slice, key: event.symbol, emit)
                } else {
                    startConfluent(schemaId)
                    var trade = BinanceRawTrade(event, ingestionTimestamp: micros)
                    trade.tradeId &+= tradeIdOffset
                    trade.encode(to: &avro)
                    try emitAvro(.binance, key: event.symbol, index: 0, emit)
                }
                return 1
            case "kraken":
                guard let krakenFrame = try KrakenV1TradeFrame.parse(frame) else { skip?(.notATrade, nil); return 0 }
                for (index, trade) in krakenFrame.trades.enumerated() {
                    try emitKraken(KrakenRawTrade(frame: krakenFrame, trade: trade, ingestionTimestamp: micros), schemaId, index, emit)
                }
                return krakenFrame.trades.count
            default:   // kraken-v2
                guard let message = try KrakenV2TradeMessage.parse(frame) else { skip?(.notATrade, nil); return 0 }
                for (index, trade) in message.trades.enumerated() {
                    try emitKraken(KrakenRawTrade(v2: trade, ingestionTimestamp: micros), schemaId, index, emit)
                }
                return message.trades.count
            }
        } catch let error as ExchangeFrameError {
            skip?(.malformed, error)
            return 0
        }
    }

    /// A Binance trade whose strings are plain: the value is built from the frame's bytes directly.
    private mutating func emitBinance(frame: UnsafeBufferPointer<UInt8>, micros: Int64,
                                      _ emit: (BronzeRecordView) throws -> Void) throws {
        var trade = spans
        trade.tradeId &+= tradeIdOffset
        let key = symbolKeys.key(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(frame)[trade.symbol.range]))
        if format == .json {
            try emitBinanceJSON(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(frame)[trade.eventRange]), key: key, emit)
            return
        }
        let size = BinanceAvroValue.maxSize(trade)
        if scratch.count < size { scratch = [UInt8](repeating: 0, count: size * 2) }
        let length = scratch.withUnsafeMutableBufferPointer { out in
            confluentPrefix[0].withUnsafeBufferPointer { prefix in
                BinanceAvroValue.write(trade, frame: frame, prefix: prefix, ingestionMicros: micros, to: out.baseAddress!)
            }
        }
        try scratch.withUnsafeBytes { value in
            try emit(BronzeRecordView(exchange: .binance, key: key, value: UnsafeRawBufferPointer(rebasing: value[0..<length]),
                                      tradeIndex: 0))
        }
    }

    /// K2's v2 Binance value is the event object as received; with a `tradeIdOffset` its `"t"` number is
    /// rewritten (the rest stays byte for byte).
    private mutating func emitBinanceJSON(_ event: UnsafeRawBufferPointer, key: String,
                                          _ emit: (BronzeRecordView) throws -> Void) throws {
        guard tradeIdOffset != 0 else {
            try emit(BronzeRecordView(exchange: .binance, key: key, value: event, tradeIndex: 0))
            return
        }
        json.removeAll(keepingCapacity: true)
        let marker: [UInt8] = Array(#""t":"#.utf8)
        var at = 0
        var rewritten = false
        while at < event.count {
            if !rewritten, at + marker.count <= event.count, event[at] == marker[0],
               (0..<marker.count).allSatisfy({ event[at + $0] == marker[$0] }) {
                json.append(contentsOf: marker)
                at += marker.count
                while at < event.count, event[at] == UInt8(ascii: " ") { at += 1 }
                var end = at
                if end < event.count, event[end] == UInt8(ascii: "-") { end += 1 }
                while end < event.count, event[end] >= UInt8(ascii: "0"), event[end] <= UInt8(ascii: "9") { end += 1 }
                let digits = String(decoding: UnsafeRawBufferPointer(rebasing: event[at..<end]), as: UTF8.self)
                json.append(contentsOf: String((Int64(digits) ?? 0) &+ tradeIdOffset).utf8)
                at = end
                rewritten = true
                continue
            }
            json.append(event[at])
            at += 1
        }
        try json.withUnsafeBytes { try emit(BronzeRecordView(exchange: .binance, key: key, value: $0, tradeIndex: 0)) }
    }

    /// `prefixIndex`: 0 Binance, 1 Kraken.
    private mutating func startConfluent(_ prefixIndex: Int) {
        avro.removeAll()
        avro.writeRaw(confluentPrefix[prefixIndex])
    }

    private func emitAvro(_ exchange: BronzeExchange, key: String, index: Int,
                          _ emit: (BronzeRecordView) throws -> Void) throws {
        try avro.bytes.withUnsafeBytes { try emit(BronzeRecordView(exchange: exchange, key: key, value: $0, tradeIndex: index)) }
    }

    private mutating func emitKraken(_ trade: KrakenRawTrade, _ schemaId: Int, _ index: Int,
                                     _ emit: (BronzeRecordView) throws -> Void) throws {
        if format == .json {
            json.removeAll(keepingCapacity: true)
            trade.encodeJSON(to: &json)
            try json.withUnsafeBytes { try emit(BronzeRecordView(exchange: .kraken, key: trade.pair, value: $0, tradeIndex: index)) }
        } else {
            startConfluent(schemaId)
            trade.encode(to: &avro)
            try emitAvro(.kraken, key: trade.pair, index: index, emit)
        }
    }

    /// "btcusdt@trade" → "BTCUSDT".
    public static func binanceSymbol(stream: String) -> String {
        String(stream.prefix { $0 != "@" }).uppercased()
    }
}

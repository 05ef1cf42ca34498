import XCTest
@testable import Exchanges

/// The Binance trade scan's edge cases: what `parse` and `scanTrade` accept, and the exact error (message and
/// byte offset) for what they refuse, so that a faster scan cannot change either.
final class BinanceTradeScanTests: XCTestCase {
    private let body = #""e":"trade","E":1700000000001,"s":"BTCUSDT","t":42,"p":"42000.10","q":"0.5","T":1700000000000,"m":true,"M":true"#

    private func error(_ frame: String) -> ExchangeFrameError? {
        frameError { _ = try BinanceTradeEvent.parse(Array(frame.utf8)) }
    }

    private func scanError(_ frame: String) -> ExchangeFrameError? {
        var spans = BinanceTradeSpans()
        return frameError { _ = try Array(frame.utf8).withUnsafeBufferPointer { try BinanceTradeEvent.scanTrade($0, into: &spans) } }
    }

    /// The ExchangeFrameError `body` throws, nil when it throws none; any other error fails the test.
    private func frameError(_ body: () throws -> Void) -> ExchangeFrameError? {
        do {
            try body()
            return nil
        } catch let error as ExchangeFrameError {
            return error
        } catch {
            XCTFail("unexpected \(error)")
            return nil
        }
    }

    func testIntegersAndTheirErrors() throws {
        let negative = try XCTUnwrap(BinanceTradeEvent.parse(Array(#"{"e":"trade","E":-5,"s":"X","t":0,"p":"1","q":"1","T":9223372036854775807,"m":false}"#.utf8)))
        XCTAssertEqual(negative.eventTimeMs, -5)
        XCTAssertEqual(negative.tradeId, 0)
        XCTAssertEqual(negative.tradeTimeMs, Int64.max)
        XCTAssertNil(negative.isBestMatch)
        XCTAssertNil(negative.buyerOrderId)

        // "t"'s value starts at byte 39 in each of these frames.
        let prefix = #"{"e":"trade","E":1,"s":"X","p":"1","t":"#
        XCTAssertEqual(prefix.utf8.count, 39)
        for (value, message) in [("1.5", "expected an integer"), ("2e3", "expected an integer"), ("-", "expected an integer"),
                                 ("--1", "expected an integer"), ("1-2", "expected an integer"),
                                 ("9223372036854775808", "integer overflows 64 bits"),
                                 ("99999999999999999999.5", "integer overflows 64 bits"),
                                 ("1.99999999999999999999", "expected an integer")] {
            for frame in [prefix + value + "}", prefix + value + #","q":"1"}"#] {
                let parsed = error(frame)
                XCTAssertEqual(parsed?.message, message, frame)
                XCTAssertEqual(parsed?.offset, 39, frame)
                XCTAssertEqual(scanError(frame)?.message, message, frame)
                XCTAssertEqual(scanError(frame)?.offset, 39, frame)
            }
        }
        let notANumber = error(prefix + #""7"}"#)
        XCTAssertEqual(notANumber?.message, "expected a number")
        XCTAssertEqual(notANumber?.offset, 39)
    }

    func testMissingFieldsAreNamedInOrder() {
        XCTAssertEqual(error(#"{"e":"trade","s":"X"}"#)?.message, #"Binance trade event without "E""#)
        XCTAssertEqual(error(#"{"e":"trade","E":1,"s":"X","t":1,"p":"1","q":"1","T":1}"#)?.message, #"Binance trade event without "m""#)
        let wrapped = #"{"stream":"x@trade","data":{"e":"trade","E":1}}"#
        XCTAssertEqual(error(wrapped)?.message, #"Binance trade event without "s""#)
        XCTAssertEqual(error(wrapped)?.offset, 27)   // the data object's start
        XCTAssertEqual(scanError(wrapped)?.message, #"Binance trade event without "s""#)
    }

    func testWrappingDuplicatesAndNulls() throws {
        // The last "data" object counts; top-level single-letter fields are ignored when wrapped.
        let frame = #"{"e":"x","stream":"btcusdt@trade","data":{"e":"kline"},"data":{"# + body + #"},"extra":[1,{"a":null}]}"#
        let event = try XCTUnwrap(BinanceTradeEvent.parse(Array(frame.utf8)))
        XCTAssertEqual(event.stream, "btcusdt@trade")
        XCTAssertEqual(event.symbol, "BTCUSDT")
        XCTAssertEqual(event.tradeId, 42)
        XCTAssertEqual(event.price, "42000.10")
        XCTAssertEqual(event.isBestMatch, true)
        var spans = BinanceTradeSpans()
        let scan = try Array(frame.utf8).withUnsafeBufferPointer { try BinanceTradeEvent.scanTrade($0, into: &spans) }
        guard case .trade = scan else { return XCTFail("\(scan)") }
        XCTAssertEqual(String(decoding: Array(frame.utf8)[spans.eventRange], as: UTF8.self), "{" + body + "}")
        XCTAssertEqual(spans.tradeTimeMs, 1_700_000_000_000)

        let nullBest = try XCTUnwrap(BinanceTradeEvent.parse(Array(("{" + body.replacingOccurrences(of: #""M":true"#, with: #""M":null"#) + "}").utf8)))
        XCTAssertNil(nullBest.isBestMatch)
        XCTAssertNil(try BinanceTradeEvent.parse(Array(#"{"stream":"x","data":{"e":"kline","E":1}}"#.utf8)))
        XCTAssertNil(try BinanceTradeEvent.parse(Array("[1]".utf8)))

        // An escaped symbol: the scan asks for decoding, parse decodes it.
        let escaped = "{" + body.replacingOccurrences(of: #""s":"BTCUSDT""#, with: #""s":"BTC\u0055SDT""#) + "}"
        let decode = try Array(escaped.utf8).withUnsafeBufferPointer { try BinanceTradeEvent.scanTrade($0, into: &spans) }
        guard case .needsDecoding = decode else { return XCTFail("\(decode)") }
        XCTAssertEqual(try BinanceTradeEvent.parse(Array(escaped.utf8))?.symbol, "BTCUSDT")
    }

    /// Blanks between elements change nothing but offsets: the same fields found, bad values refused with the
    /// same error (at an offset shifted by the blanks before it).
    func testBlanksBetweenElementsChangeOnlyOffsets() throws {
        let frames = [
            #"{"stream":"btcusdt@trade","data":{"# + body + "}}",
            #"{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"X","t":2,"p":"1.0","q":"2.0","b":7,"a":8,"T":3,"m":false,"M":null}}"#,
            #"{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"X","t":2,"p":"1.0","q":"2.0","b":7,"T":3,"m":false}}"#,
            #"{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"X","t":2,"p":"1.0","q":"2.0","T":3,"m":true,"M":false,"x":[1]}}"#,
            #"{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"t":2,"s":"X","p":"1.0","q":"2.0","T":3,"m":true,"t":5}}"#,
            #"{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"X","t":2,"p":"1.0","q":"2.0","T":3,"m":true ,"M":true}}"#,
            "{" + body + "}",
        ]
        for frame in frames {
            let spaced = frame.replacingOccurrences(of: ",", with: ", ")
            let direct = try XCTUnwrap(BinanceTradeEvent.parse(Array(frame.utf8)), frame)
            let general = try XCTUnwrap(BinanceTradeEvent.parse(Array(spaced.utf8)), spaced)
            var expected = general
            expected.eventRange = direct.eventRange
            XCTAssertEqual(direct, expected, frame)
        }
        XCTAssertEqual(try BinanceTradeEvent.parse(Array(frames[4].utf8))?.tradeId, 5)   // the last "t" counts
        XCTAssertNil(try BinanceTradeEvent.parse(Array(frames[2].utf8))?.sellerOrderId)

        let bad = [#""t":1.5"#, #""E":"1""#, #""m":1"#, #""p":7"#, #""M":nul"#, #""q":"a"# + "\u{01}" + #"""#]
        for replacement in bad {
            let key = String(replacement.dropFirst().prefix(1))
            let frame = (#"{"stream":"btcusdt@trade","data":{"# + body + "}}")
                .replacingOccurrences(of: #"(""# + key + #"":[^,}]*)"#, with: replacement, options: .regularExpression)
            XCTAssertNotEqual(frame, #"{"stream":"btcusdt@trade","data":{"# + body + "}}")
            let spaced = frame.replacingOccurrences(of: ",", with: ", ")
            let direct = try XCTUnwrap(error(frame), frame)
            let general = try XCTUnwrap(error(spaced), spaced)
            XCTAssertEqual(direct.message, general.message, frame)
            // The blanks before the bad value shift its offset by one per comma before it.
            let commas = frame.utf8.prefix(direct.offset).filter { $0 == UInt8(ascii: ",") }.count
            XCTAssertEqual(direct.offset + commas, general.offset, frame)
        }
    }

    /// What a scan gives for a frame, comparable: the spans of a trade, or the error's message and offset.
    private enum Outcome: Equatable {
        case trade(BinanceTradeSpans), notATrade, needsDecoding, error(String, Int)
    }

    private func outcome(_ frame: [UInt8], _ scan: (UnsafeBufferPointer<UInt8>, inout BinanceTradeSpans) throws -> BinanceTradeEvent.Scan) -> Outcome {
        var spans = BinanceTradeSpans()
        do {
            switch try frame.withUnsafeBufferPointer({ try scan($0, &spans) }) {
            case .trade: return .trade(spans)
            case .notATrade: return .notATrade
            case .needsDecoding: return .needsDecoding
            }
        } catch let error as ExchangeFrameError {
            return .error(error.message, error.offset)
        } catch {
            return .error("\(error)", -1)
        }
    }

    /// The compact-layout shortcut decides nothing on its own: for Binance's own frames it finds what the
    /// general scan finds, and for every frame one byte away from them (a byte replaced, removed or added
    /// anywhere) `scanTrade` gives exactly what the general scan gives, trade, refusal or error.
    func testCompactLayoutShortcutAgreesWithTheGeneralScan() throws {
        let compact = [
            #"{"stream":"btcusdt@trade","data":{"# + body + "}}",
            "{" + body + "}",
            #"{"stream":"ethusdt@trade","data":{"e":"trade","E":1,"s":"ETHUSDT","t":2,"p":"1.0","q":"2.0","b":7,"a":8,"T":3,"m":false,"M":false}}"#,
            #"{"stream":"ethusdt@trade","data":{"e":"trade","E":0,"s":"E","t":999999999999999999,"p":"1","q":"2","T":3,"m":false}}"#,
        ]
        for frame in compact {
            var spans = BinanceTradeSpans()
            let taken = Array(frame.utf8).withUnsafeBufferPointer { BinanceCompactTradeScan.scan($0, into: &spans) }
            XCTAssertTrue(taken, "the shortcut should read Binance's layout: \(frame)")
            let general = outcome(Array(frame.utf8), BinanceTradeEvent.scanTradeInAnyLayout)
            XCTAssertEqual(.trade(spans), general, frame)
        }
        // Not the shortcut's: a 19-digit id, a sign, a blank, null; the general scan reads them.
        for frame in [compact[0].replacingOccurrences(of: #""t":42"#, with: #""t":1000000000000000000"#),
                      compact[0].replacingOccurrences(of: #""E":1700000000001"#, with: #""E":-1"#),
                      compact[0].replacingOccurrences(of: #""m":true"#, with: #""m": true"#),
                      compact[0].replacingOccurrences(of: #""M":true"#, with: #""M":null"#)] {
            var spans = BinanceTradeSpans()
            XCTAssertFalse(Array(frame.utf8).withUnsafeBufferPointer { BinanceCompactTradeScan.scan($0, into: &spans) }, frame)
            guard case .trade = outcome(Array(frame.utf8), BinanceTradeEvent.scanTrade) else { return XCTFail(frame) }
        }

        let replacements: [UInt8] = Array(#"" \,:{}[]01-.aetn"#.utf8) + [0x01, 0x7F, 0xC3]
        var cases = 0, trades = 0, shortcut = 0
        for frame in compact.map({ Array($0.utf8) }) {
            var variants: [[UInt8]] = []
            for index in 0...frame.count {
                if index < frame.count {
                    var removed = frame
                    removed.remove(at: index)
                    variants.append(removed)
                    for byte in replacements where byte != frame[index] {
                        var replaced = frame
                        replaced[index] = byte
                        variants.append(replaced)
                    }
                }
                for byte in [UInt8(ascii: " "), UInt8(ascii: "7"), UInt8(ascii: "}")] {
                    var added = frame
                    added.insert(byte, at: index)
                    variants.append(added)
                }
            }
            for variant in variants {
                let fast = outcome(variant, BinanceTradeEvent.scanTrade)
                let general = outcome(variant, BinanceTradeEvent.scanTradeInAnyLayout)
                XCTAssertEqual(fast, general, String(decoding: variant, as: UTF8.self))
                if case .trade = fast { trades += 1 }
                var spans = BinanceTradeSpans()
                if variant.withUnsafeBufferPointer({ BinanceCompactTradeScan.scan($0, into: &spans) }) {
                    shortcut += 1
                    XCTAssertEqual(.trade(spans), general, String(decoding: variant, as: UTF8.self))
                }
                cases += 1
            }
        }
        XCTAssertGreaterThan(cases, 10_000)
        XCTAssertGreaterThan(trades, 500, "variants that are still trades compare their spans too")
        // Variants the shortcut itself takes (another digit, another letter in a string): compared above with
        // the general scan, so the shortcut is tested on more than Binance's exact frames.
        XCTAssertGreaterThan(shortcut, 300)
    }

    /// The shortcut reads numbers and strings eight bytes at a time while eight remain: numbers of every length
    /// from 1 to 20 digits and strings of every length from 0 to 20 bytes, with a stop byte (quote, backslash,
    /// control, DEL, non-ASCII) at every position, put the lane boundaries everywhere. For each frame the
    /// shortcut, where it takes the frame, finds what the general scan finds, and `scanTrade` agrees with it.
    func testEightByteLanesAgreeWithTheGeneralScanAtEveryLength() throws {
        func frame(e: String = "1700000000001", s: [UInt8] = Array("BTCUSDT".utf8), t: String = "42",
                   p: [UInt8] = Array("42000.10".utf8), tradeTime: String = "1700000000000") -> [UInt8] {
            Array(#"{"stream":"btcusdt@trade","data":{"e":"trade","E":"#.utf8) + Array(e.utf8) + Array(#","s":""#.utf8)
                + s + Array(#"","t":"#.utf8) + Array(t.utf8) + Array(#","p":""#.utf8) + p
                + Array(#"","q":"0.5","T":"#.utf8) + Array(tradeTime.utf8) + Array(#","m":true}}"#.utf8)
        }
        var frames: [[UInt8]] = []
        for length in 1...20 {
            let digits = String((0..<length).map { Character(String(($0 * 7 + 3) % 10)) })
            frames.append(frame(e: digits))
            frames.append(frame(t: digits))
            frames.append(frame(t: "9" + String(repeating: "0", count: length - 1)))
            // The last number of the frame: fewer than eight bytes follow it, so its end is read byte by byte.
            frames.append(frame(tradeTime: digits))
        }
        let stops: [UInt8] = [0x22, 0x5C, 0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xFF]
        for length in 0...20 {
            let text = (0..<length).map { UInt8(65 + $0 % 26) }
            frames.append(frame(s: text))
            frames.append(frame(p: text))
            for position in 0..<length {
                for stop in stops {
                    var bad = text
                    bad[position] = stop
                    frames.append(frame(s: bad))
                    frames.append(frame(p: bad))
                }
            }
        }
        var taken = 0
        for variant in frames {
            let general = outcome(variant, BinanceTradeEvent.scanTradeInAnyLayout)
            XCTAssertEqual(outcome(variant, BinanceTradeEvent.scanTrade), general, String(decoding: variant, as: UTF8.self))
            var spans = BinanceTradeSpans()
            if variant.withUnsafeBufferPointer({ BinanceCompactTradeScan.scan($0, into: &spans) }) {
                taken += 1
                XCTAssertEqual(.trade(spans), general, String(decoding: variant, as: UTF8.self))
            }
        }
        XCTAssertGreaterThan(frames.count, 1_500)
        // Numbers of up to 18 digits and plain strings of any length are the shortcut's.
        XCTAssertGreaterThan(taken, 100)
    }
}

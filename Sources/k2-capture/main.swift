// k2-capture: records Binance, Kraken and Kafka streams byte-exact into segment logs. (Issue 3.)
import Foundation
import K2CLI
StandardError.print("k2-capture: not built yet")
exit(K2ExitCode.unusable.rawValue)

// k2-replay: see README.md.
import Foundation
import K2CLI
StandardError.print("k2-replay: not built yet")
exit(K2ExitCode.unusable.rawValue)

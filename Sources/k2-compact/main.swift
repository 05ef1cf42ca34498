// k2-compact: see README.md.
import Foundation
import K2CLI
StandardError.print("k2-compact: not built yet")
exit(K2ExitCode.unusable.rawValue)

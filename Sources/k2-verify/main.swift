// k2-verify: see README.md.
import Foundation
import K2CLI
StandardError.print("k2-verify: not built yet")
exit(K2ExitCode.unusable.rawValue)

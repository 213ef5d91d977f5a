"""Start the real servers the integration tier is configured for.

``python -m tests.integration.servers`` (the first step of ``make test-real``).

For each target of ``BACKENDAI_REAL_TARGETS`` whose harness exists (``../shared/<dir>/up.sh``,
idempotent: < 1 s when already up) it runs that ``up.sh``, one after the other (both install
packages with apt/pip on a cold machine). A target without a harness here (a clone without
``../shared``, or an endpoint set through the environment) is not started: the tier then
uses its configured endpoint and says how to start it if it does not answer. A failing
``up.sh`` fails this command.
"""

from __future__ import annotations

import subprocess
import sys
import time

from ._targets import load_targets


def main() -> int:
    try:
        targets = load_targets()
    except ValueError as err:
        print(f"test-real: {err}", file=sys.stderr)
        return 2
    for target in targets:
        script = target.up_script
        if script is None:
            print(f"test-real: {target.label}: using {target.manager} (set in the environment)")
            continue
        if not script.is_file():
            print(
                f"test-real: {target.label}: no harness at {script}: not starting it; the tier "
                f"uses {target.manager} (set {target.env_prefix}MANAGER/WEBSERVER for another)"
            )
            continue
        print(f"test-real: {target.label}: bash {script}", flush=True)
        started = time.monotonic()
        with subprocess.Popen(
            ["bash", str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as proc:
            assert proc.stdout is not None
            output = []
            for line in proc.stdout:  # its progress lines; the banner of endpoints is dropped
                output.append(line.rstrip())
                if line.startswith("[up.sh"):
                    print("   ", output[-1], flush=True)
            code = proc.wait()
        if code != 0:
            print("\n".join(output[-40:]), file=sys.stderr)
            print(f"test-real: {script} failed with exit code {code}", file=sys.stderr)
            return code
        print(f"test-real: {target.label} is up ({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

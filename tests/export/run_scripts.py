"""Run several exported gradwire scripts in one Python process, so torch is imported once.

stdin: {"runs": [{"path": ..., "argv": [...]}]}
stdout: {"results": [{"stdout": ..., "stderr": ..., "code": ...}]}, one per run, in order.
"""
import contextlib
import io
import json
import runpy
import sys
import traceback


def run(path, argv):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    sys.argv = [path, *argv]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_path(path, run_name="__main__")
        except SystemExit as e:
            # sys.exit("message") prints the message and exits with 1, as the interpreter would.
            if isinstance(e.code, str):
                print(e.code, file=sys.stderr)
                code = 1
            else:
                code = e.code or 0
        except Exception:
            traceback.print_exc()
            code = 1
    return {"stdout": out.getvalue(), "stderr": err.getvalue(), "code": code}


def main():
    request = json.load(sys.stdin)
    results = [run(r["path"], r["argv"]) for r in request["runs"]]
    json.dump({"results": results}, sys.__stdout__)


main()

"""The notebook stage around the kernels: warm kernels, notebook tools, the workbook process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kompetensprognos.batch import WarmKernel

pytestmark = pytest.mark.slow


def test_a_warm_kernel_runs_its_notebook_in_its_folder_and_leaves_no_trace(
    tmp_path: Path, make_notebook
) -> None:
    folder = tmp_path / "skaraborg"
    folder.mkdir()
    notebook = make_notebook(
        "nb.ipynb",
        "import os, sys\n"
        "print(os.path.basename(os.getcwd()))\n"
        "print('kompetensprognos.plots' in sys.modules)\n"
        "print([k for k in ('_importlib', '_name', '_Figure', '_fig') if k in globals()])",
    )
    kernel = WarmKernel("python3", folder)
    pid = kernel.km.provisioner.pid
    kernel.execute(
        input_path=str(notebook),
        output_path=str(folder / "out.ipynb"),
        parameters={"region": "skaraborg"},
        kernel_name="python3",
        progress_bar=False,
    )
    cells = json.loads((folder / "out.ipynb").read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    # the kernel started in the region folder, has the report's imports loaded, and the warm-up
    # left no names behind and did not count as an execution
    assert "".join(code[-1]["outputs"][0]["text"]).split("\n")[:3] == ["skaraborg", "True", "[]"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    assert not kernel.km.has_kernel  # shut down after its notebook
    with pytest.raises(ProcessLookupError):  # and the process is gone
        os.kill(pid, 0)


def test_notebook_tools_are_imported_without_the_iri_grammar() -> None:
    code = (
        "import sys; from kompetensprognos.batch import import_notebook_tools\n"
        "import_notebook_tools()\n"
        "import jsonschema\n"
        "print('papermill' in sys.modules, 'rfc3987_syntax' in sys.modules,\n"
        "      'iri' in jsonschema.FormatChecker.checkers, 'uri' in jsonschema.FormatChecker.checkers)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # papermill is loaded, the grammar module is neither loaded nor left blocked (a later import
    # would load it), and jsonschema checks URIs but not IRIs
    assert done.stdout.split() == ["True", "False", "False", "True"]


def test_workbooks_wait_for_their_start_and_a_failed_run_stops_them(tmp_path: Path) -> None:
    import pandas as pd

    from kompetensprognos.batch import _Workbooks

    tables = {"skaraborg": {"notes": pd.DataFrame({"section": ["x"], "message": ["y"]})}}
    (tmp_path / "skaraborg").mkdir()
    books = _Workbooks(tmp_path, tables, {"skaraborg": None}, None, "fp", jobs=2)
    time.sleep(1.5)
    assert books._proc.is_alive() and not (tmp_path / "skaraborg" / "rapport.xlsx").exists()
    books.start()
    assert books.result() == {} and (tmp_path / "skaraborg" / "rapport.xlsx").exists()
    assert not books._proc.is_alive()

    waiting = _Workbooks(tmp_path, tables, {"skaraborg": None}, None, "fp", jobs=2)
    waiting.close()  # the run failed before the workbooks were started
    assert not waiting._proc.is_alive()

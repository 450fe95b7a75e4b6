"""The notebook series: titles, the README table of contents (not public API)."""

from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = ["NOTEBOOK_DIR", "notebook_paths", "notebook_title", "readme_toc", "update_readme",
           "run_notebooks", "pseudonymized_copy"]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
_START, _END = "<!-- toc:start -->", "<!-- toc:end -->"


def notebook_paths(directory: Path = NOTEBOOK_DIR) -> list[Path]:
    """The numbered notebooks (``NN-topic.ipynb``) in order, solutions excluded."""
    return sorted(p for p in directory.glob("[0-9][0-9]-*.ipynb"))


def notebook_title(path: Path) -> str:
    """The text of the first ``#`` heading in the notebook's first markdown cell."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
            break
    raise ValueError(f"{path}: the first markdown cell has no '# Title' line; add one")


def readme_toc(directory: Path = NOTEBOOK_DIR) -> str:
    """The README's table of contents: one numbered line per notebook, linked."""
    lines = []
    for path in notebook_paths(directory):
        number = path.name[:2]
        lines.append(f"{int(number)}. [{notebook_title(path)}](notebooks/{path.name})")
    return "\n".join(lines)


def update_readme(readme: Path = ROOT / "README.md") -> bool:
    """Rewrite the block between the toc markers; returns True when it changed."""
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(_START) + r".*?" + re.escape(_END), flags=re.S)
    new = pattern.sub(f"{_START}\n{readme_toc()}\n{_END}", text)
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text



def run_notebooks(source: str | Path | None, out: str | Path, *,
                  mapping: str | Path | None = None, as_of: str | None = None,
                  hide_code: bool = False, notebooks: list[Path] | None = None,
                  progress: bool | None = None) -> list[Path]:
    """Execute the series on a dataset with papermill and render each notebook to HTML.

    Parameters
    ----------
    source : str or Path or None
        The client's folder, workbook or database; None runs on the bundled sample.
    out : str or Path
        Folder for the executed notebooks (``NN-*.ipynb``) and their HTML renderings.
    mapping, as_of
        Passed to every notebook's parameters cell (``MAPPING``, ``AS_OF``).
    hide_code : bool
        Leave the code out of the HTML, for client-facing copies.
    notebooks : list of Path, optional
        A subset of the series (default: all of it).

    Returns
    -------
    list of Path
        The HTML files written, in series order.
    """
    import papermill as pm
    from nbconvert import HTMLExporter
    from tqdm import tqdm

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    params = {"SOURCE": None, "MAPPING": None, "AS_OF": as_of}
    if source is not None:
        # The notebooks see a pseudonymised copy of the client's data, never the original:
        # identifiers hashed, personal columns dropped, the mapping already applied.
        params["SOURCE"] = str(pseudonymized_copy(source, out_dir / "_data", mapping=mapping,
                                                  as_of=as_of))
    exporter = HTMLExporter(exclude_input=hide_code, exclude_input_prompt=hide_code,
                            exclude_output_prompt=hide_code)
    written = []
    paths = notebooks or notebook_paths()
    for path in tqdm(paths, desc="notebooks", disable=None if progress is None else not progress):
        executed = out_dir / path.name
        pm.execute_notebook(str(path), str(executed), parameters=params, cwd=str(path.parent),
                            progress_bar=False, kernel_name="python3")
        body, _ = exporter.from_filename(str(executed))
        html = executed.with_suffix(".html")
        html.write_text(body, encoding="utf-8")
        written.append(html)
    return written


def pseudonymized_copy(source: str | Path, folder: str | Path, *,
                       mapping: str | Path | None = None, as_of: str | None = None,
                       salt: str | None = None) -> Path:
    """Load ``source`` with identifiers pseudonymised and personal columns dropped, and write
    the canonical tables as Parquet files into ``folder`` (which ``ll.load`` reads as is).

    Rows the loader rejected are not copied; the load report says how many and why.
    """
    import secrets

    from loyaltylab.data.load import load

    data = load(source, mapping=mapping, as_of=as_of, pseudonymize=True,
                salt=salt or secrets.token_hex(16))
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in data.tables.items():
        frame.write_parquet(out / f"{name}.parquet")
    return out


if __name__ == "__main__":
    print("README updated" if update_readme() else "README already up to date")

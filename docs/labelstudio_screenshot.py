"""Take docs/labelstudio.png: the labelling screen of a real Label Studio with meldtekst's config and tasks.

Starts Label Studio from the cached venv of the end-to-end test (tests/lsserver/support.py),
creates a project with `meldtekst labelstudio config`, imports `meldtekst suggest` tasks from the
example file and photographs the first task in headless Chromium (Debian's `chromium`; needs
`pip install playwright`, which drives the system browser, no browser download).

    python docs/labelstudio_screenshot.py [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from lsserver import support  # noqa: E402


def meldtekst(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "meldtekst", *args], check=True, cwd=ROOT)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "labelstudio.png")
    args = ap.parse_args()
    venv = support.ensure_venv()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        config, tasks, plan = tmp / "config.xml", tmp / "tasks.json", tmp / "plan.json"
        meldtekst("labelstudio", "config", "-o", str(config))
        meldtekst("suggest", "data/voorbeeld_meldingen.csv", "-n", "5", "-o", str(tasks), "--strategy", "uncertainty")
        plan.write_text(json.dumps({"annotators": [], "plan": {}}))
        data_dir = tmp / "ls"
        data_dir.mkdir()
        with support.running_server(venv, data_dir) as url:
            drove = subprocess.run(
                [str(support.venv_python(venv)), str(ROOT / "tests" / "lsserver" / "driver.py"), url,
                 support.ADMIN_TOKEN, str(config), str(tasks), str(tmp / "export.json"), str(plan)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            project = json.loads(drove.stdout.strip().splitlines()[-1])["project"]
            shoot(url, project, args.chromium, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")


def shoot(url: str, project: int, chromium: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(f"{url}/user/login/")
        page.fill("input[name=email]", support.ADMIN_EMAIL)
        page.fill("input[name=password]", support.ADMIN_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.goto(f"{url}/projects/{project}/data?task=1")
        page.wait_for_selector("text=Situatie rond het kind", timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(out))
        browser.close()
    from PIL import Image

    Image.open(out).convert("RGB").quantize(colors=128).save(out, optimize=True)


if __name__ == "__main__":
    main()

"""Drive a Label Studio server through label-studio-sdk the way a team does (runs in Label Studio's venv).

    python driver.py URL ADMIN_TOKEN CONFIG.xml TASKS.json EXPORT.json PLAN.json

The admin creates the project with the generated config and imports the suggested tasks with
their predictions; two annotators join through the organisation's invite link, fetch their own
API token as a person would from their account page, and submit (or skip) annotations as
PLAN.json says: {"annotators": [email, ...], "plan": {report_id: {email: [themes] | "skip"}}}.
The admin then exports the project in Label Studio's JSON format.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import requests
from label_studio_sdk import LabelStudio


def join(url: str, admin: LabelStudio, admin_token: str, email: str) -> str:
    """Sign up through the invite link and return the new user's own API token."""
    invite = requests.get(f"{url}/api/invite", headers={"Authorization": f"Token {admin_token}"}, timeout=30)
    invite.raise_for_status()
    link = url + invite.json()["invite_url"]
    s = requests.Session()
    s.get(link, timeout=30).raise_for_status()
    form = {"email": email, "password": "annotator-wachtwoord-1", "csrfmiddlewaretoken": s.cookies["csrftoken"]}
    r = s.post(link, data=form, headers={"Referer": link}, timeout=30, allow_redirects=False)
    if r.status_code not in (302, 303):
        raise SystemExit(f"signup of {email} failed: HTTP {r.status_code}")
    token = s.get(f"{url}/api/current-user/token", timeout=30)
    token.raise_for_status()
    return token.json()["token"]


def main() -> None:
    url, admin_token, config_path, tasks_path, export_path, plan_path = sys.argv[1:7]
    admin = LabelStudio(base_url=url, api_key=admin_token)
    config = Path(config_path).read_text(encoding="utf-8")
    tasks = json.loads(Path(tasks_path).read_text(encoding="utf-8"))
    plan = json.loads(Path(plan_path).read_text(encoding="utf-8"))
    project = admin.projects.create(title="meldtekst e2e", label_config=config, show_skip_button=True)
    admin.projects.import_tasks(id=project.id, request=tasks, commit_to_project=True)
    created = list(admin.tasks.list(project=project.id, fields="all"))
    with_predictions = sum(1 for t in created if t.predictions)
    by_report = {t.data["id"]: t.id for t in created}
    done = 0
    for email in plan["annotators"]:
        me = LabelStudio(base_url=url, api_key=join(url, admin, admin_token, email))
        for report_id, per_annotator in plan["plan"].items():
            choice = per_annotator.get(email)
            if choice is None:
                continue
            task_id = by_report[report_id]
            if choice == "skip":
                me.annotations.create(id=task_id, result=[], was_cancelled=True)
            else:
                result = [{"from_name": "themes", "to_name": "tekst", "type": "choices", "value": {"choices": choice}}]
                me.annotations.create(id=task_id, result=result, was_cancelled=False, lead_time=12.5)
            done += 1
    with open(export_path, "wb") as fh:
        for chunk in admin.projects.exports.download_sync(id=project.id, export_type="JSON", download_all_tasks=True):
            fh.write(chunk)
    print(json.dumps({"project": project.id, "tasks": len(created), "with_predictions": with_predictions,
                      "annotations": done}))  # fmt: skip


if __name__ == "__main__":
    main()

"""Load the recognition stages of fixtures/demo/recognition.yaml (seed 001, as of August 2019).

The seed states where each commune stood, not who took each step or when, so each file gets one step
"Ghi nhận theo văn bản" carrying the seed's words instead of invented dates. Entries without a `year` are skipped;
`from_map: true` marks a commune of the official map the demo does not list itself (skipped when the map is not
loaded). Loading twice changes nothing.
"""

from django.db import transaction
from django.utils import timezone

from areas.models import Area
from areas.timeline import reporting_date
from criteria.models import CriteriaSet
from recognition.models import Action, RecognitionFile, RecognitionStep, Stage, first_of_month


class DemoDataError(ValueError):
    pass


PLANNED = {
    "verify": "planned_verify_month",
    "appraise": "planned_appraise_month",
    "recognise": "planned_recognise_month",
}


@transaction.atomic
def load_demo_recognition(entries, *, areas_by_code) -> int:
    """Create or update the demo files; returns how many files were created or changed."""
    sets = {s.code: s for s in CriteriaSet.objects.national()}
    changed = 0
    for entry in entries:
        if not entry.get("year"):
            continue
        if entry.get("from_map") and str(entry["area"]) not in areas_by_code:
            # A commune of the official map the demo does not list itself: there only once the map is loaded.
            unit = Area.objects.communes().filter(code=str(entry["area"])).valid_on(reporting_date(int(entry["year"])))
            if not unit.exists():
                continue
            areas_by_code = {**areas_by_code, str(entry["area"]): unit.get()}
        area, criteria_set = _area_and_set(entry, areas_by_code=areas_by_code, sets=sets)
        stage = Stage(entry["stage"])
        values = {
            "stage": stage,
            "note": entry.get("note", ""),
            "decision_number": entry.get("decision_number", ""),
            **_planned_months(entry),
        }
        file = RecognitionFile.objects.filter(area=area, criteria_set=criteria_set, year=int(entry["year"])).first()
        if file is not None and all(getattr(file, name) == value for name, value in values.items()):
            continue
        previous = file.stage if file is not None else Stage.PREPARING
        if file is None:
            file = RecognitionFile(area=area, criteria_set=criteria_set, year=int(entry["year"]))
        for name, value in values.items():
            setattr(file, name, value)
        if previous != stage or file.pk is None:
            file.stage_changed_at = timezone.now()
            file.last_action = Action.IMPORT if stage != Stage.PREPARING else ""
        file.version += 0 if file.pk is None else 1
        file.full_clean()
        file.save()
        if previous != stage:
            RecognitionStep.objects.create(
                file=file, from_stage=previous, to_stage=stage, action=Action.IMPORT, comment=values["note"]
            )
        changed += 1
    return changed


def _area_and_set(entry, *, areas_by_code, sets):
    """The area and the criteria set an entry is about; DemoDataError when the demo data has either wrong."""
    try:
        area = areas_by_code[str(entry["area"])]
    except KeyError:
        raise DemoDataError(f"Không có địa bàn mã {entry['area']!r} trong dữ liệu mẫu.")
    criteria_set = sets.get(entry["criteria_set"])
    if criteria_set is None:
        raise DemoDataError(f"Không có bộ tiêu chí {entry['criteria_set']!r}.")
    return area, criteria_set


def _planned_months(entry):
    """The planned month of each step the entry gives, as the file's planned_… fields (None where not given)."""
    planned = entry.get("planned") or {}
    return {field: first_of_month(planned[key]) if planned.get(key) else None for key, field in PLANNED.items()}

"""Alarm state changes, noticed by polling and sent to the project's notification channels.

CloudWatch tells the alarms' SNS topic, which the dashboard does not subscribe to (it may not
be reachable from AWS); the scheduler's alarm watch reads the states instead. The last state
seen is kept in the cache: a flushed cache only means an alarm already in ALARM is announced
again, never that a change goes unannounced.
"""

from __future__ import annotations

from django.core.cache import cache

from dashboard.notifications import dispatch
from dashboard.observe import reading
from dashboard.projects.models import Stage
from dashboard.runs.models import DeployedResource

ALARM = "ALARM"


def stages_with_alarms() -> list[Stage]:
    ids = DeployedResource.objects.filter(type="cloudwatch:alarm").values("stage").distinct()
    return list(Stage.objects.filter(pk__in=ids).select_related("project"))


def watch(stage: Stage) -> list[str]:
    """Read the stage's alarm states; announce each change. Returns the alarms announced."""
    names = [reading.alarm_name(row) for row in reading.alarm_rows(stage=stage)]
    if not names:
        return []
    announced = []
    for name, state in reading.read_states(stage, names).items():
        if state["state"] == reading.UNREAD:
            continue  # not read this time: neither a change nor a reason to forget the last
        key = f"observe:alarm-seen:{stage.pk}:{name}"
        seen = cache.get(key)
        cache.set(key, state["state"], timeout=None)
        first_look_in_alarm = seen is None and state["state"] == ALARM
        if first_look_in_alarm or (seen is not None and seen != state["state"]):
            dispatch.alarm_state_changed(
                project=stage.project,
                stage=stage.name,
                alarm=name,
                state=state["state"],
                reason=state["reason"],
            )
            announced.append(name)
    return announced

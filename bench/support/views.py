"""The baseline of the intake benchmark: the least a Django view can do to accept a JSON body.

It goes through the same middleware, parses the same JSON and inserts one row in one transaction,
so "intake rate / baseline rate" says what the dossier intake costs above a plain write.
"""

import json

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

TABLE = "bench_baseline_row"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    "id bigserial PRIMARY KEY, received_at timestamptz NOT NULL DEFAULT now(), body text NOT NULL)"
)


@csrf_exempt
@require_POST
def baseline(request: HttpRequest) -> JsonResponse:
    payload = json.loads(request.body)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (body) VALUES (%s) RETURNING id", [json.dumps(payload)])
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)

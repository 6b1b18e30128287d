"""Gap-free running numbers (dossier codes, result registers, receipt series).

A counter row per key holds the last number given. ``next_number`` locks that row until the
caller's transaction ends, so concurrent callers queue on it and a rolled-back caller gives its
number back. Two callers may both find no row for a new key: the loser of the insert race gets an
IntegrityError inside its savepoint and then locks the winner's row.
"""

from django.db import IntegrityError, models, transaction


def next_number(model: type[models.Model], **key) -> int:
    """The next number of ``model``'s counter row for ``key`` (a ``last_number`` field); call inside a transaction."""
    counter = model.objects.select_for_update().filter(**key).first()
    if counter is None:
        try:
            with transaction.atomic():
                counter = model.objects.create(**key, last_number=0)
        except IntegrityError:
            counter = model.objects.select_for_update().get(**key)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number

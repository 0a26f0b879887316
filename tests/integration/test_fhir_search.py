"""FHIR searches a page at a time (docs/api.md § FHIR for partners): a large space walked through
next links with fhirpy, and, for random spaces with hidden documents, the union of the pages equals
the native list the caller sees."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from chalicelib.documents import store
from tests.examples import examples
from tests.integration import test_fhir as fhir
from tests.integration.test_fhir import grant, provide, rpps, search, submitted

person, doctor, served = fhir.person, fhir.doctor, fhir.served  # the FHIR tests' fixtures, here too

CODES = ("11488-4", "11502-2")  # consultation report, lab report: interleaved in a space
BUNDLE = 16  # documents a bundle holds at most (documents.service MAX_AT_ONCE)


def deposit(api, person, author, n: int) -> list[str]:
    """``n`` documents, types alternating, in bundles; their ids oldest first."""
    ids: list[str] = []
    for start in range(0, n, BUNDLE):
        documents = [{"code": CODES[i % 2], "title": f"Doc {i}"} for i in range(start, min(n, start + BUNDLE))]
        response = provide(api, submitted(person["ins"], *documents), author)
        assert response.status_code == 200, response.json_body
        ids += [entry["response"]["location"].split("/")[1] for entry in response.json_body["entry"][1::2]]
    return ids


def mask(api, person, document_ids) -> None:
    for document_id in document_ids:
        path = f"/v1/patients/{person['patient_id']}/documents/{document_id}"
        assert api.patch(path, {"masked": True}, token=person["token"]).status_code == 200


def pages(api, who: str, **params) -> list[dict]:
    """Every page of a search, through its next links (their cursors)."""
    found = [search(api, who, **params).json_body]
    while any(link["relation"] == "next" for link in found[-1].get("link", [])):
        url = next(link["url"] for link in found[-1]["link"] if link["relation"] == "next")
        cursor = parse_qs(urlsplit(url).query)["_cursor"][0]
        found.append(search(api, who, **params, _cursor=cursor).json_body)
    return found


def ids_of(bundles: list[dict]) -> list[str]:
    return [entry["resource"]["id"] for bundle in bundles for entry in bundle["entry"]]


@pytest.mark.volume
def test_several_hundred_documents_walked_page_by_page(served, api, person, doctor, token):
    from fhirpy import SyncFHIRClient

    grant(api, person, 1)
    grant(api, person, 2)
    other = token("professional", rpps=rpps(2), profession="medecin")
    documents = deposit(api, person, doctor, 320)
    # a run of hidden documents longer than a page reads (store.READS_PER_PAGE) and a few scattered
    run = documents[100 : 100 + 3 * 21 + 20]
    scattered = documents[10:60:5]
    mask(api, person, run + scattered)
    hidden = set(run) | set(scattered)
    # newest first: by deposit time, then id (sortable ids, core/ids.py: in one millisecond, any order)
    visible = sorted((document_id for document_id in documents if document_id not in hidden), reverse=True)

    client = SyncFHIRClient(f"{served}/v1/fhir", authorization=f"Bearer {other}")
    walked = client.resources("DocumentReference").search(patient=person["patient_id"], _count=20).fetch_all()
    assert [reference.id for reference in walked] == visible  # no duplicate, no gap, nothing hidden

    bundles = pages(api, other, patient=person["patient_id"], _count=20)
    sizes = [len(bundle["entry"]) for bundle in bundles]
    assert all(size <= 20 for size in sizes) and sum(sizes) == len(visible)
    assert any(size < 20 for size in sizes[:-1])  # the long hidden run made one page short...
    assert all("total" not in bundle for bundle in bundles)  # ...and is counted nowhere
    counted = search(api, other, patient=person["patient_id"], _count=20, _total="accurate").json_body
    assert counted["total"] == len(visible)
    assert search(api, doctor, patient=person["patient_id"], _total="accurate").json_body["total"] == 320  # the author

    # by type: one index partition per code, merged newest first
    both = ids_of(pages(api, other, patient=person["patient_id"], type=",".join(CODES), _count=20))
    assert both == visible
    lab = ids_of(pages(api, other, patient=person["patient_id"], type=CODES[1], _count=30))
    assert lab == [document_id for document_id in visible if documents.index(document_id) % 2 == 1]


def test_a_result_on_one_page_is_counted(api, person, doctor):
    grant(api, person, 1)
    documents = deposit(api, person, doctor, 3)
    page = search(api, doctor, patient=person["patient_id"], _count=3).json_body
    assert page["total"] == 3 and ids_of([page]) == sorted(documents, reverse=True)
    assert [link["relation"] for link in page["link"]] == ["self"]


def test_a_page_reads_a_bounded_number_of_index_pages(api, person, doctor, token, monkeypatch):
    """Whatever the space holds, a page reads at most READS_PER_PAGE index pages per type."""
    grant(api, person, 1)
    grant(api, person, 2)
    other = token("professional", rpps=rpps(2), profession="medecin")
    documents = deposit(api, person, doctor, 40)
    mask(api, person, documents)  # all hidden from the other professional
    reads: list[int] = []
    fill = store._Partition.fill

    def counted(partition):
        reads.append(1)
        fill(partition)

    monkeypatch.setattr(store._Partition, "fill", counted)
    page = search(api, other, patient=person["patient_id"], _count=5).json_body
    assert len(reads) == store.READS_PER_PAGE and page["entry"] == [] and "total" not in page
    rest = pages(api, other, patient=person["patient_id"], _count=5)
    assert ids_of(rest) == [] and len(rest) > 1  # short pages: their next links, never an entry


@hypothesis_settings(
    max_examples=examples(6), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.booleans(), min_size=1, max_size=24),
    st.integers(min_value=1, max_value=6),
    st.sampled_from([None, CODES[0], ",".join(CODES)]),
)
def test_the_pages_together_are_the_native_list(api, person, doctor, token, hidden_flags, count, codes):
    grant(api, person, 1)
    grant(api, person, 2)
    other = token("professional", rpps=rpps(2), profession="medecin")
    documents = deposit(api, person, doctor, len(hidden_flags))
    mask(api, person, [document_id for document_id, hide in zip(documents, hidden_flags, strict=True) if hide])
    native = api.get(f"/v1/patients/{person['patient_id']}/documents?limit=200", token=other).json_body["items"]
    expected = [item["document_id"] for item in native if codes is None or item["type_code"] in codes.split(",")]
    params = {"patient": person["patient_id"], "_count": count, **({"type": codes} if codes else {})}
    assert ids_of(pages(api, other, **params)) == expected

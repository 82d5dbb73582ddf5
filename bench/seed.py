"""Bench data: a fresh, migrated SQLite file with 100,000 incidents and 1,000,000 timeline events.

Usage: .venv/bin/python bench/seed.py [PATH] [--incidents N] [--events N] [--seed N]

Incidents and events are generated in memory, then written with Core executemany in batches
(no ORM objects), in the order the app itself would have written them: incident ids grow with
detection time and event ids with event time, so one incident's events are spread through the
table as in real use. The schema comes from the real Alembic migrations. No ANALYZE is run:
the app never runs it either, so the query planner sees what it sees in production.
A summary (sizes, timings, the incident with most events) goes to PATH + ".json".
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
DEFAULT_DB = BENCH_DIR / "out" / "bench.db"

ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_PASSWORD = "bench-password-1"
BATCH = 20_000

# (email, name, title, role, locale)
USERS = [
    (ADMIN_EMAIL, "Bench Admin", "Operations Manager", "admin", None),
    ("park.jiwoo@example.com", "박지우", "CX 매니저", "manager", "ko"),
    ("kim.minji@example.com", "김민지", "CX 팀장", "lead", "ko"),
    ("lee.seojun@example.com", "이서준", "물류 팀장", "lead", "ko"),
    ("emma.walsh@example.com", "Emma Walsh", "Payments Lead", "lead", "en"),
    ("choi.yuna@example.com", "최유나", "상담원", "agent", "ko"),
    ("jung.hoon@example.com", "정훈", "상담원", "agent", "ko"),
    ("kang.sora@example.com", "강소라", "상담원", "agent", "ko"),
    ("yoon.daeho@example.com", "윤대호", "시니어 상담원", "agent", "ko"),
    ("han.eunji@example.com", "한은지", "상담원", "agent", None),
    ("oh.taemin@example.com", "오태민", "운영 담당", "agent", "ko"),
    ("david.cho@example.com", "David Cho", "Support Engineer", "agent", "en"),
    ("sarah.lim@example.com", "Sarah Lim", "CX Agent", "agent", "en"),
    ("song.mirae@example.com", "송미래", "품질 담당", "agent", "ko"),
    ("auditor@example.com", "Audit Viewer", "Internal Auditor", "viewer", "en"),
]

# Shares of the data set; about 3.5% of incidents are still open, as in a healthy team.
GRADE_WEIGHTS = {1: 1.5, 2: 7.0, 3: 38.0, 4: 53.5}
OPEN_STATUS_WEIGHTS = {"detected": 0.6, "shared": 1.0, "mitigated": 0.8, "resolved": 1.1}
CLOSED_WEIGHT = 96.5
CATEGORY_WEIGHTS = {"delivery": 25, "product_defect": 15, "payment": 12, "billing": 10,
                    "service_outage": 7, "food_safety": 6, "abusive_customer": 6, "other": 8,
                    None: 11}
CHANNEL_WEIGHTS = {"chat": 35, "phone": 25, "email": 12, "social": 6, "internal": 8,
                   "monitoring": 8, None: 6}
# Minutes from one step to the next, (low, high) per grade rank: share, mitigate, resolve, close.
STEP_MINUTES = {
    1: [(3, 20), (20, 180), (60, 600), (600, 10_000)],
    2: [(10, 90), (30, 600), (120, 2_000), (600, 14_000)],
    3: [(20, 600), (60, 2_000), (60, 4_000), (60, 10_000)],
    4: [(5, 120), (5, 300), (5, 600), (5, 2_000)],
}
STATUSES = ["detected", "shared", "mitigated", "resolved", "closed"]
STEP_ATTR = {"shared": "shared_at", "mitigated": "mitigated_at", "resolved": "resolved_at",
             "closed": "closed_at"}

PRODUCTS = ["도시락", "샐러드", "우유", "두유", "생수 2L", "냉동 만두", "김치", "삼각김밥", "coffee beans",
            "protein bar", "baby formula", "air fryer", "무선 이어폰", "phone case", "비타민",
            "granola", "닭가슴살", "과일 세트", "rice cooker", "떡볶이 밀키트"]
REGIONS = ["서울 강남구", "서울 마포구", "부산 해운대구", "인천 연수구", "대구 수성구", "경기 성남시",
           "경기 수원시", "광주 서구", "대전 유성구", "Jeju", "Ulsan", "세종시"]
APPS = ["iOS app", "Android app", "웹 주문 페이지", "카카오 채널", "partner portal", "checkout"]
PAYMENTS = ["카카오페이", "네이버페이", "토스", "Visa", "Mastercard", "무통장입금", "Apple Pay"]

TITLES = {
    "delivery": ["배송 지연: 주문 {order} {n}일째 미도착", "Order {order} delivered to the wrong address",
                 "{region} 새벽배송 누락 ({n}건)", "Wrong item delivered: {product} instead of {product2}",
                 "파손된 상태로 배송됨 — {product}", "Courier left {product} outside in the rain",
                 "배송 완료 처리됐으나 미수령 (주문 {order})", "Cold chain broken: {product} arrived warm"],
    "product_defect": ["{product} 불량 — 전원 안 켜짐", "Defective {product}, customer wants exchange",
                       "{product} 포장 훼손 및 내용물 누락", "{product} 유통기한 지난 제품 배송",
                       "Batch issue: {product} lot {lot} leaking", "{product} 사이즈/옵션 오배송"],
    "payment": ["결제 오류: {payment} 승인 후 주문 미생성", "Double charge on {payment} for order {order}",
                "{payment} 결제 실패 급증 ({n}%)", "Refund not received after {n} days (주문 {order})",
                "쿠폰 적용 후 결제 금액 불일치", "Payment page timeout in {app}"],
    "billing": ["정기결제 중복 청구 — 고객 {n}명", "Subscription billed after cancellation",
                "청구서 금액 오류 (₩{amount})", "VAT shown twice on invoice {order}",
                "멤버십 요금 이중 결제", "Promo price not honoured at billing"],
    "service_outage": ["주문 API 5xx 급증 ({app})", "{app} login fails after update",
                       "서비스 장애: {app} 응답 없음 {n}분", "Push notifications not delivered",
                       "검색 결과 0건 — 인덱스 오류", "Checkout latency above {n}s in {region}"],
    "food_safety": ["{product}에서 이물질 발견 (머리카락)", "Customer reports food poisoning after {product}",
                    "{product} 변질/이취 신고", "Allergen not labelled: {product} contains nuts",
                    "{product} 곰팡이 발견 — 동일 로트 {lot} 확인 필요"],
    "abusive_customer": ["폭언 고객 — 상담원 보호 조치 요청", "Customer threatening to post on SNS",
                         "반복 악성 민원 (주문 {order})", "Abusive caller demanding ₩{amount} compensation",
                         "상담원 대상 욕설 및 협박"],
    "other": ["고객 개인정보 노출 의심 문의", "Influencer complaint about {product}",
              "리뷰 게시판 허위 정보 신고", "Partner store closed without notice in {region}",
              "언론 문의: {product} 관련", "Mislabelled price tag in {region} store"],
    None: ["고객 불만 접수 (주문 {order})", "Customer complaint, details pending",
           "{product} 관련 문의 — 분류 전", "Escalation from {app} chat"],
}

DESCRIPTION_SENTENCES = {
    "delivery": ["고객이 {n}일째 배송을 받지 못했다고 문의했습니다.", "Tracking shows the parcel stuck at the {region} hub.",
                 "배송기사와 통화 연결이 되지 않습니다.", "The customer needs it for a family event this weekend."],
    "product_defect": ["제품 수령 직후 작동하지 않았다고 합니다.", "Photos attached by the customer show a cracked casing.",
                       "동일 로트 {lot}에서 유사 문의가 {n}건 더 있습니다.", "Customer asked for a replacement, not a refund."],
    "payment": ["{payment} 승인 문자는 받았으나 주문 내역이 없습니다.", "The PG logs show two approvals {n} seconds apart.",
                "고객은 즉시 환불을 원합니다.", "Settlement team confirmed the duplicate on their side."],
    "billing": ["해지 후에도 요금이 청구되었습니다.", "The invoice shows ₩{amount} instead of the promo price.",
                "고객이 카드사에 이의제기를 하겠다고 합니다.", "Affects customers migrated in the last billing run."],
    "service_outage": ["모니터링에서 오류율 {n}% 이상 감지.", "Error rate rose right after deploy {lot}.",
                       "고객센터 문의가 평소의 {n}배로 증가했습니다.", "Rollback is being prepared by the on-call engineer."],
    "food_safety": ["고객이 사진과 함께 신고했습니다.", "The customer says their child ate part of it before noticing.",
                    "동일 로트 {lot} 판매 중지 검토 필요.", "Quality team asked to keep the sample for inspection."],
    "abusive_customer": ["통화 중 반복적인 폭언이 있었습니다.", "The customer threatened to visit the office.",
                         "상담원이 통화를 종료하고 팀장에게 보고했습니다.", "Call recording has been kept for review."],
    "other": ["정확한 분류가 필요합니다.", "Forwarded by the partner team.", "담당 부서 확인 중입니다."],
}
GENERIC_SENTENCES = ["고객은 빠른 회신을 원합니다.", "Customer is a long-time member (VIP).",
                     "관련 주문번호: {order}.", "See the attached screenshots.", "재발 여부 확인 필요.",
                     "Customer prefers contact by 문자 (SMS)."]
IMPACTS = ["고객 1명, 주문 1건 영향.", "{n} customers could not order for about {n2} minutes.",
           "환불 ₩{amount} 발생.", "Customer trust at risk; SNS post with {n} shares.",
           "Minor inconvenience, no financial loss.", "해당 지역 새벽배송 {n}건 지연."]
CAUSES = ["배송 파트너 배차 오류.", "PG timeout followed by a client retry.", "창고 재고 데이터 불일치.",
          "Supplier lot {lot} failed QC at source.", "상담 매뉴얼 미준수.", "Deploy {lot} regression.",
          "Address parsing bug for new 도로명 format.", "Customer misunderstanding; no defect found."]
RESOLUTIONS = ["환불 완료 및 사과 문자 발송.", "Replacement shipped next day; apology call made.",
               "쿠폰 ₩{amount} 지급.", "Rolled back deploy {lot}; monitoring for 24h.",
               "동일 로트 판매 중지 및 회수.", "Explained policy to customer; case closed with consent.",
               "배송 파트너에 재교육 요청."]
NOTES = ["고객에게 상황 안내 문자 발송.", "Called the customer, no answer; will retry at 3pm.",
         "물류센터 확인 결과 재고 있음.", "Courier confirms the parcel was mis-sorted.",
         "팀장 보고 완료.", "Customer sent more photos.", "PG사에 거래 내역 확인 요청.",
         "Waiting for the supplier's QC report.", "고객이 보상 금액에 동의하지 않음.",
         "Escalated to the payments on-call.", "재발 방지 대책 논의 예정.",
         "Same issue reported by {n} more customers.", "고객 요청으로 통화 시간 변경 (오후 6시 이후).",
         "Checked logs for order {order}: two approvals.", "법무팀 검토 요청.",
         "Posted an update in the #cx-incidents channel.", "고객 불만 강도 높음 — 신중히 응대."]
ACTIONS = ["사과 전화 완료.", "Refund of ₩{amount} issued.", "교환 상품 발송 (송장 {order}).",
           "Blocked lot {lot} in the warehouse system.", "쿠폰 ₩{amount} 지급.",
           "Sent apology e-mail with compensation details.", "배송 파트너에 클레임 접수.",
           "Rolled back to the previous release.", "상담원 보호를 위해 통화 종료 안내."]
CUSTOMER_NAMES = ["김서연", "이도윤", "박하은", "최지호", "정수아", "강민준", "조예린", "윤시우",
                  "Jane Park", "Michael Kim", "장유진", "임현우", "한지민", "오세훈", "신나래"]
EDIT_FIELDS = ["title", "description", "impact", "cause", "resolution", "category", "channel",
               "affected_count", "responders", "detected_at"]


def _fill(rng: random.Random, template: str) -> str:
    values = {"order": f"{rng.randrange(10**9, 10**10)}", "n": rng.randint(2, 40), "n2": rng.randint(5, 90),
              "amount": f"{rng.randrange(3, 500) * 1000:,}", "lot": f"L{rng.randrange(1000, 9999)}",
              "product": rng.choice(PRODUCTS), "product2": rng.choice(PRODUCTS),
              "region": rng.choice(REGIONS), "app": rng.choice(APPS), "payment": rng.choice(PAYMENTS)}
    return template.format(**values)


def _weighted(rng: random.Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _description(rng: random.Random, category: str | None) -> str:
    pool = DESCRIPTION_SENTENCES.get(category or "other", DESCRIPTION_SENTENCES["other"])
    lines = [_fill(rng, s) for s in rng.sample(pool, k=min(len(pool), rng.randint(1, 3)))]
    lines += [_fill(rng, s) for s in rng.sample(GENERIC_SENTENCES, k=rng.randint(0, 2))]
    if rng.random() < 0.3:  # some agents write Markdown lists
        return lines[0] + "\n\n" + "\n".join(f"- {line}" for line in lines[1:])
    return " ".join(lines)


class Lifecycle:
    """Mirrors incidents.services.change_status so step timestamps match the status."""

    def __init__(self):
        self.status = "detected"
        self.times = dict.fromkeys(STEP_ATTR.values())
        self.changes: list[tuple[datetime, str, str]] = []

    def move(self, target: str, at: datetime) -> None:
        current, step = STATUSES.index(self.status), STATUSES.index(target)
        if step > current:
            for status in STATUSES[current + 1:step + 1]:
                attr = STEP_ATTR[status]
                if self.times[attr] is None or status == target:
                    self.times[attr] = at
        else:
            for status in ("mitigated", "resolved", "closed"):
                self.times[STEP_ATTR[status]] = None
        self.changes.append((at, self.status, target))
        self.status = target


def _path(rng: random.Random, rank: int, final: str) -> list[str]:
    """The statuses an incident was moved to, in order; small incidents skip steps."""
    if rank == 4 and final == "closed" and rng.random() < 0.6:
        return ["closed"]
    steps = [s for s in STATUSES[1:STATUSES.index(final) + 1]]
    if "mitigated" in steps and rng.random() < 0.35:
        steps.remove("mitigated")
    if "shared" in steps and rank >= 3 and rng.random() < 0.3:
        steps.remove("shared")
    if final == "closed" and rng.random() < 0.015:  # reopened once, then closed again
        steps += ["shared", "resolved", "closed"]
    return steps or [final]


def _durations(rng: random.Random, rank: int, path: list[str]) -> list[float]:
    out = []
    for status in path:
        low, high = STEP_MINUTES[rank][STATUSES.index(status) - 1]
        out.append(rng.uniform(low, high) * rng.choice((0.5, 1, 1, 1.5)))
    return out


def generate(rng: random.Random, n_incidents: int, n_events: int, now: datetime, grades: dict,
             categories: dict, users: list[dict]):
    """Incident rows, customer rows, responder rows and event tuples, in id order."""
    staff = [u for u in users if u["role"] in ("agent", "lead", "manager", "admin")]
    owners = [u for u in users if u["role"] in ("agent", "lead")]
    owner_weights = [3 if u["role"] == "agent" else 1 for u in owners]
    grade_by_rank = {g["rank"]: g for g in grades.values()}
    open_weights = {**OPEN_STATUS_WEIGHTS, "closed": CLOSED_WEIGHT}
    two_years = timedelta(days=730).total_seconds()

    specs = []
    for _ in range(n_incidents):
        final = _weighted(rng, open_weights)
        if final == "closed":
            detected = now - timedelta(seconds=rng.uniform(3600, two_years))
        elif rng.random() < 0.85:  # open incidents are mostly recent, a few linger for months
            detected = now - timedelta(seconds=rng.uniform(600, 30 * 86400))
        else:
            detected = now - timedelta(seconds=rng.uniform(30 * 86400, 200 * 86400))
        specs.append((detected, final))
    specs.sort()

    incidents, customers, responders, structural = [], [], [], []
    for incident_id, (detected, final) in enumerate(specs, start=1):
        category = _weighted(rng, CATEGORY_WEIGHTS)
        rank = _weighted(rng, GRADE_WEIGHTS)
        if category in ("food_safety", "service_outage") and rank > 2 and rng.random() < 0.3:
            rank -= 1
        grade = grade_by_rank[rank]
        channel = _weighted(rng, CHANNEL_WEIGHTS)
        if category == "service_outage" and rng.random() < 0.7:
            channel = "monitoring"
        owner = rng.choices(owners, weights=owner_weights)[0]
        reporter = rng.choice(staff)
        created = detected + timedelta(minutes=rng.uniform(0, 30))

        path = _path(rng, rank, final)
        budget = (now - created).total_seconds() / 60 * 0.95
        durations = _durations(rng, rank, path)
        if sum(durations) > budget:  # an open incident cannot have moved in the future
            scale = budget / sum(durations)
            durations = [d * scale for d in durations]
        life, at = Lifecycle(), created
        for status, minutes in zip(path, durations, strict=True):
            at += timedelta(minutes=minutes)
            life.move(status, at)
        end = at

        title = _fill(rng, rng.choice(TITLES[category]))
        closed = final == "closed"
        affected = None
        if rng.random() < 0.6:
            affected = {1: rng.randint(100, 50_000), 2: rng.randint(5, 500)}.get(rank, 1)
        incidents.append({
            "id": incident_id, "title": title, "description": _description(rng, category),
            "grade_id": grade["id"], "grade_rank": rank,
            "category_id": categories[category] if category else None, "channel": channel,
            "status": final, "detected_at": detected, "created_at": created, "updated_at": end,
            "reporter_id": reporter["id"], "owner_id": owner["id"], "affected_count": affected,
            "impact": _fill(rng, rng.choice(IMPACTS)) if rank <= 3 or closed else "",
            "cause": _fill(rng, rng.choice(CAUSES)) if closed and rank <= 3 else "",
            "resolution": _fill(rng, rng.choice(RESOLUTIONS)) if closed else "",
            "abusive_customer": category == "abusive_customer" or rng.random() < 0.01,
            "one_stop": rank == 4 and path == ["closed"] and rng.random() < 0.8,
            "version": 1 + len(path), **life.times,
        })

        def add(at, kind, body="", data=None, actor=None, _id=incident_id, _owner=owner):
            structural.append((at, _id, kind, body, data or {}, (actor or _owner)["id"]))

        first_grade = grade
        if rng.random() < 0.03:
            first_grade = grade_by_rank[rng.choice([r for r in grade_by_rank if r != rank])]
        add(created, "created", data={"grade": first_grade["name"], "owner": owner["email"],
                                      "status": "detected"}, actor=reporter)
        for i in range(rng.choices((0, 1, 2, 3), weights=(75, 20, 4, 1))[0]):
            customers.append({"incident_id": incident_id, "name": rng.choice(CUSTOMER_NAMES),
                              "contact": f"010-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}",
                              "reference": f"주문 {rng.randrange(10**9, 10**10)}",
                              "impact": _fill(rng, rng.choice(IMPACTS)) if rng.random() < 0.5 else "",
                              "created_at": created + timedelta(minutes=i)})
            add(created + timedelta(minutes=i), "customer_added",
                data={"customer_id": len(customers)}, actor=reporter)
        if rng.random() < 0.2:
            for user in rng.sample(owners, k=rng.randint(1, 3)):
                responders.append({"incident_id": incident_id, "user_id": user["id"]})
        span = max((end - created).total_seconds(), 60)
        if first_grade is not grade:
            add(created + timedelta(seconds=rng.uniform(0, span)), "grade_changed",
                data={"from": first_grade["name"], "to": grade["name"]})
        if rng.random() < 0.05:
            previous = rng.choice([u for u in owners if u is not owner])
            add(created + timedelta(seconds=rng.uniform(0, span)), "owner_changed",
                data={"from": previous["email"], "to": owner["email"]}, actor=previous)
        if rng.random() < 0.15:
            add(created + timedelta(seconds=rng.uniform(0, span)), "edited",
                data={"fields": rng.sample(EDIT_FIELDS, k=rng.randint(1, 3))})
        for at, old, new in life.changes:
            note = _fill(rng, rng.choice(NOTES)) if rng.random() < 0.25 else ""
            add(at, "status_changed", note, {"from": old, "to": new})

    # Notes and actions fill the rest of the event budget, heavily skewed: most incidents get a
    # handful, red and long-running ones get hundreds (a Pareto tail, capped).
    extra_total = n_events - len(structural)
    if extra_total < 0:
        raise SystemExit(f"{n_events} events are fewer than the {len(structural)} structural ones")
    weights = []
    for row in incidents:
        w = rng.paretovariate(1.3) * {1: 6, 2: 2.5, 3: 1, 4: 0.5}[row["grade_rank"]]
        weights.append(min(w, 400.0))
    scale = extra_total / sum(weights)
    extras = [int(w * scale) for w in weights]
    # Hand out the rounding remainder, weighted the same way.
    cumulative = list(itertools.accumulate(weights))
    for _ in range(extra_total - sum(extras)):
        extras[bisect.bisect(cumulative, rng.uniform(0, cumulative[-1]))] += 1

    events = structural
    for row, count in zip(incidents, extras, strict=True):
        start = row["created_at"]
        span = max(((row["closed_at"] or now) - start).total_seconds(), 60) * 0.98
        owner_id = row["owner_id"]
        for _ in range(count):
            kind = "note" if rng.random() < 0.7 else "action"
            body = _fill(rng, rng.choice(NOTES if kind == "note" else ACTIONS))
            actor = owner_id if rng.random() < 0.6 else rng.choice(staff)["id"]
            events.append((start + timedelta(seconds=rng.uniform(1, span)), row["id"], kind, body,
                           {}, actor))
    events.sort(key=lambda e: (e[0], e[1]))
    return incidents, customers, responders, events


# --- what the dashboard reads besides incidents ------------------------------------------------
# A separate random stream (seed + 1), so adding these leaves the incidents and events as they were.
COMP_SHARE = {1: 0.55, 2: 0.3, 3: 0.08, 4: 0.02}  # incidents with compensation, by grade rank
COMP_TYPES = {"refund": 35, "coupon": 30, "replacement": 15, "credit": 8, "service_extension": 7,
              "cash": 5}
COMP_AMOUNTS = {"refund": (5, 300), "coupon": (3, 30), "replacement": (10, 200), "credit": (5, 50),
                "service_extension": (5, 40), "cash": (10, 1000)}  # thousands of won
APOLOGY_SHARE = {1: 0.6, 2: 0.35, 3: 0.04, 4: 0.01}
POSTMORTEM_SHARE = {1: 0.9, 2: 0.5}  # of closed Red and Orange incidents
ACTION_TITLES = ["배송 파트너 배차 로직 점검", "Add an alert on PG approval mismatches", "상담 매뉴얼 개정",
                 "Supplier QC report for the lot", "주소 파싱 예외 처리 추가", "Runbook for checkout rollback",
                 "재고 동기화 주기 단축", "Train agents on the abuse protocol", "보상 기준표 갱신",
                 "Monitor cold-chain temperature at the hub"]
APOLOGY_BODY = ("{name} 고객님께,\n\n주문하신 상품과 관련하여 불편을 드려 진심으로 사과드립니다. "
                "확인 결과 {cause} 재발하지 않도록 조치하겠습니다.\n\n{signer} 드림")
N_PLAYBOOKS = 300
SEED_VERSION = 3  # 2: compensations, apologies, postmortems, action items, playbooks, growth;
#                  3: postmortem versions and published texts


def dashboard_summary(extra: dict[str, list[dict]], now: datetime) -> dict:
    """What the dashboard's default 30-day period and a one-year period will find."""
    def within(days):
        return now - timedelta(days=days)
    out = {name: len(rows) for name, rows in extra.items()}
    for days in (30, 365):
        since = within(days)
        out[f"last_{days}d"] = {
            "compensations_paid": sum(1 for c in extra["compensations"]
                                      if c["status"] == "paid" and c["paid_at"] >= since),
            "compensation_paid_krw": sum(c["amount"] for c in extra["compensations"]
                                         if c["status"] == "paid" and c["paid_at"] >= since),
            "apologies_sent": sum(1 for a in extra["apology_letters"]
                                  if a["sent_at"] is not None and a["sent_at"] >= since)}
    out["action_items_open"] = sum(1 for a in extra["action_items"] if a["status"] == "open")
    out["action_items_overdue"] = sum(1 for a in extra["action_items"] if a["status"] == "open"
                                      and a["due_date"] < now.date())
    return out


def _role_for(amount: int) -> str:
    return "agent" if amount <= 30_000 else "lead" if amount <= 100_000 else \
        "manager" if amount <= 500_000 else "admin"


def dashboard_rows(rng: random.Random, incidents: list[dict], customers: list[dict],
                   users: list[dict], now: datetime) -> dict[str, list[dict]]:
    """Compensations, apology letters, postmortems with action items, playbooks made from
    incidents, and weekly/monthly growth figures, consistent with each incident's history."""
    import search_corpus

    staff = [u for u in users if u["role"] in ("agent", "lead", "manager", "admin")]
    approvers = [u for u in users if u["role"] in ("lead", "manager", "admin")]
    people = {u["id"]: u for u in users}
    by_incident: dict[int, list[int]] = {}
    for customer_id, c in enumerate(customers, start=1):
        by_incident.setdefault(c["incident_id"], []).append(customer_id)
    comp, letters, versions, postmortems, actions = [], [], [], [], []
    pm_versions: list[dict] = []
    types = list(COMP_TYPES)
    for inc in incidents:
        rank, iid, closed = inc["grade_rank"], inc["id"], inc["status"] == "closed"
        start = inc["created_at"]
        end = inc["closed_at"] or inc["resolved_at"] or now
        span = max((end - start).total_seconds(), 600)

        def during(lo=0.05, hi=0.95, _s=start, _span=span):
            return _s + timedelta(seconds=_span * rng.uniform(lo, hi))

        owned = by_incident.get(iid, [])
        if rng.random() < COMP_SHARE[rank]:
            for _ in range(rng.choices((1, 2, 3), weights=(80, 17, 3))[0]):
                kind = rng.choices(types, weights=[COMP_TYPES[t] for t in types])[0]
                low, high = COMP_AMOUNTS[kind]
                amount = rng.randint(low, high) * 1000
                proposed = during(0.05, 0.6)
                status = rng.choices(("paid", "approved", "rejected", "cancelled"),
                                     weights=(82, 5, 8, 5))[0] if closed else \
                    rng.choices(("proposed", "approved", "paid"), weights=(45, 30, 25))[0]
                row = {"incident_id": iid, "customer_id": rng.choice(owned) if owned else None,
                       "type": kind, "amount": amount, "currency": "KRW",
                       "note": _fill(rng, rng.choice(RESOLUTIONS)), "status": status,
                       "required_role": _role_for(amount), "proposed_by_id": inc["owner_id"],
                       "proposed_at": proposed, "approved_by_id": None, "approved_via": None,
                       "approved_at": None, "decided_by_id": None, "rejected_at": None, "reason": "",
                       "paid_by_id": None, "paid_at": None, "cancelled_by_id": None,
                       "cancelled_at": None, "version": 1}
                if status in ("approved", "paid", "cancelled"):
                    row.update(approved_by_id=rng.choice(approvers)["id"], approved_via="role",
                               approved_at=proposed + timedelta(minutes=rng.uniform(5, 600)), version=2)
                if status == "paid":
                    row.update(paid_by_id=rng.choice(staff)["id"], version=3,
                               paid_at=row["approved_at"] + timedelta(minutes=rng.uniform(10, 2880)))
                elif status == "rejected":
                    row.update(decided_by_id=rng.choice(approvers)["id"], version=2,
                               rejected_at=proposed + timedelta(minutes=rng.uniform(5, 600)),
                               reason="보상 기준 초과 — 쿠폰으로 대체")
                elif status == "cancelled":
                    row.update(cancelled_by_id=inc["owner_id"], version=3,
                               cancelled_at=row["approved_at"] + timedelta(minutes=rng.uniform(5, 600)))
                for key in ("paid_at", "approved_at", "rejected_at", "cancelled_at"):
                    if row[key] is not None and row[key] > now:
                        row[key] = now - timedelta(minutes=1)
                comp.append(row)
        if rng.random() < APOLOGY_SHARE[rank]:
            created = during(0.1, 0.7)
            signer = people[rng.choice(approvers)["id"]]
            status = (rng.choices(("sent", "approved", "draft"), weights=(90, 5, 5))[0] if closed
                      else rng.choices(("draft", "approved", "sent"), weights=(40, 20, 40))[0])
            approved = created + timedelta(minutes=rng.uniform(10, 240))
            sent = approved + timedelta(minutes=rng.uniform(5, 600))
            customer = rng.choice(owned) if owned and rng.random() < 0.85 else None
            letters.append({
                "incident_id": iid, "audience": "customer" if customer else "public",
                "customer_id": customer, "language": "ko" if rng.random() < 0.85 else "en",
                "status": status, "created_by_id": inc["owner_id"], "created_at": created,
                "approved_by_id": signer["id"] if status != "draft" else None,
                "approved_at": min(approved, now) if status != "draft" else None,
                "approved_version": 1 if status != "draft" else None, "override_reason": "",
                "sent_by_id": inc["owner_id"] if status == "sent" else None,
                "sent_at": min(sent, now) if status == "sent" else None,
                "sent_channel": rng.choice(("email", "sms", "kakao")) if status == "sent" else "",
                "lock_version": {"draft": 1, "approved": 2, "sent": 3}[status]})
            versions.append({
                "letter_id": len(letters), "number": 1,
                "body": APOLOGY_BODY.format(name=rng.choice(CUSTOMER_NAMES),
                                            cause=_fill(rng, rng.choice(CAUSES)),
                                            signer=signer["email"]),
                "signatories": [{"user_id": signer["id"], "name": signer["email"].split("@")[0],
                                 "title": signer["role"], "email": signer["email"]}],
                "findings": [], "created_by_id": inc["owner_id"], "created_at": created})
        if closed and rng.random() < POSTMORTEM_SHARE.get(rank, 0):
            written = inc["closed_at"] - timedelta(minutes=rng.uniform(10, 300))
            body = ("## 요약\n" + _fill(rng, rng.choice(IMPACTS)) + "\n\n## 원인\n"
                    + _fill(rng, rng.choice(CAUSES)) + "\n\n## 조치\n"
                    + _fill(rng, rng.choice(RESOLUTIONS)))
            postmortems.append({
                "incident_id": iid, "language": "ko" if rng.random() < 0.8 else "en",
                "body": body, "published_body": body, "published_number": 1,
                "status": "published", "created_by_id": inc["owner_id"], "created_at": written,
                "updated_by_id": inc["owner_id"], "updated_at": written,
                "published_by_id": rng.choice(approvers)["id"],
                "published_at": min(written + timedelta(hours=rng.uniform(1, 72)), now), "version": 3})
            # Ids follow insertion order into the empty table, as the playbooks' do below.
            pm_versions.append({"postmortem_id": len(postmortems), "number": 1, "body": body,
                                "created_by_id": inc["owner_id"], "created_at": written})
            for _ in range(rng.randint(1, 4)):
                due = (written + timedelta(days=rng.uniform(7, 60))).date()
                done = due < now.date() and rng.random() < 0.95 or rng.random() < 0.3
                closed_at = min(written + timedelta(days=rng.uniform(1, 60)), now) if done else None
                actions.append({
                    "incident_id": iid, "title": rng.choice(ACTION_TITLES),
                    "owner_id": rng.choice(staff)["id"], "due_date": due,
                    "kind": rng.choice(("prevent", "detect", "mitigate", "process")),
                    "status": "done" if done else "open", "created_by_id": inc["owner_id"],
                    "created_at": written, "closed_by_id": inc["owner_id"] if done else None,
                    "closed_at": closed_at})

    # Playbooks made from incidents: each from 1 to 60 closed incidents of one category.
    closed_by_category: dict[int | None, list[dict]] = {}
    for inc in incidents:
        if inc["status"] == "closed":
            closed_by_category.setdefault(inc["category_id"], []).append(inc)
    pools = [c for c in closed_by_category if c is not None]
    playbooks, pb_versions, sources = [], [], []
    taken: set[tuple[int, int]] = set()
    for number in range(1, N_PLAYBOOKS + 1):
        content = search_corpus.playbook(rng)
        category_id = rng.choice(pools)
        made_from = rng.sample(closed_by_category[category_id],
                               k=min(len(closed_by_category[category_id]),
                                     int(min(rng.paretovariate(1.2), 60))))
        first = min(i["closed_at"] for i in made_from)
        author = rng.choice(approvers)["id"]
        playbooks.append({**{k: content[k] for k in ("title", "summary", "symptoms", "steps", "authority",
                                                     "compensation", "message", "escalation",
                                                     "prevention", "language", "tags")},
                          "grade_id": None, "category_id": category_id, "status": "published",
                          "recurrence_count": len(made_from), "version": 1, "created_by_id": author,
                          "created_at": first, "updated_at": first, "published_at": first,
                          "published_by_id": author})
        pb_versions.append({"playbook_id": number, "number": 1, "note": "from incidents",
                            "content": {k: content[k] for k in ("title", "summary", "steps", "language")},
                            "created_by_id": author, "created_at": first})
        for inc in made_from:
            if (number, inc["id"]) not in taken:
                taken.add((number, inc["id"]))
                sources.append({"playbook_id": number, "incident_id": inc["id"],
                                "playbook_version": 1, "added_at": inc["closed_at"]})

    # Growth figures: weekly orders (Monday to Monday) and monthly sign-ups over two years.
    growth, admin = [], next(u for u in users if u["role"] == "admin")["id"]
    monday = (now - timedelta(days=now.weekday())).date()
    for week in range(104, -1, -1):
        begin = monday - timedelta(weeks=week)
        value = int(140_000 * (1 + 0.3 * (104 - week) / 104) * rng.uniform(0.9, 1.1))
        growth.append({"metric": "orders", "period_start": begin, "period_end": begin + timedelta(days=7),
                       "value": value, "created_by_id": admin, "created_at": now})
    first_of_month = now.date().replace(day=1)
    for months in range(24, -1, -1):
        y, m = divmod(first_of_month.year * 12 + first_of_month.month - 1 - months, 12)
        begin = first_of_month.replace(year=y, month=m + 1)
        y2, m2 = divmod(y * 12 + m + 1, 12)
        growth.append({"metric": "signups", "period_start": begin,
                       "period_end": begin.replace(year=y2, month=m2 + 1),
                       "value": int(rng.uniform(20_000, 35_000)), "created_by_id": admin,
                       "created_at": now})
    return {"compensations": comp, "apology_letters": letters, "apology_versions": versions,
            "postmortems": postmortems, "postmortem_versions": pm_versions,
            "action_items": actions, "playbooks": playbooks,
            "playbook_versions": pb_versions, "playbook_sources": sources, "growth_figures": growth}


def _insert(table, rows, batch: int = BATCH) -> None:
    from sqlalchemy import insert

    from app.extensions import db

    statement = insert(table)
    for start in range(0, len(rows), batch):
        db.session.execute(statement, rows[start:start + batch])
        db.session.commit()


def _event_rows(events):
    for at, incident_id, kind, body, data, actor_id in events:
        yield {"incident_id": incident_id, "kind": kind, "body": body, "data": data,
               "actor_id": actor_id, "created_at": at}


def seed(path: Path, n_incidents: int = 100_000, n_events: int = 1_000_000,
         random_seed: int = 20261122) -> dict:
    sys.path.insert(0, str(PROJECT_ROOT))
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from app import create_app, users
    from app.extensions import db
    from app.models import Category, Grade, Role, User
    from incidents.escalation.services import run_escalations
    from incidents.models import AffectedCustomer, Incident, TimelineEvent, incident_responders

    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", ".json"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    timings, started = {}, time.perf_counter()

    def lap(name: str) -> None:
        nonlocal started
        timings[name] = round(time.perf_counter() - started, 2)
        print(f"  {name:<12} {timings[name]:7.2f} s", flush=True)
        started = time.perf_counter()

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        lap("migrate")
        for email, name, title, role, locale in USERS:
            users.create_user(email=email, name=name, title=title, role=Role(role),
                              password=ADMIN_PASSWORD, locale=locale)
        db.session.commit()
        people = [{"id": u.id, "email": u.email, "role": u.role.value}
                  for u in db.session.scalars(select(User).order_by(User.id))]
        grades = {g.name: {"id": g.id, "rank": g.rank, "name": g.name}
                  for g in db.session.scalars(select(Grade))}
        categories = {c.slug: c.id for c in db.session.scalars(select(Category))}
        lap("users")

        rng = random.Random(random_seed)
        now = datetime.now(UTC).replace(tzinfo=None)  # stored UTC, naive like SQLite returns it
        incidents, customers, responders, events = generate(
            rng, n_incidents, n_events, now, grades, categories, people)
        lap("generate")

        # A big page cache while writing; it lasts only for this connection.
        db.session.connection().exec_driver_sql("PRAGMA cache_size=-262144")
        _insert(Incident.__table__, incidents)
        _insert(AffectedCustomer.__table__, customers)
        _insert(incident_responders, responders)
        lap("incidents")
        # A live system has escalated its late, unshared incidents as they fell due; do it now,
        # through the app, or the server's first once-a-minute check does it during a run. Its
        # timeline entries count towards the events asked for: as many notes are left out.
        escalated = run_escalations()
        db.session.commit()
        recorded = db.session.scalar(select(func.count()).select_from(TimelineEvent.__table__))
        notes = [i for i, e in enumerate(events) if e[2] in ("note", "action")]
        left_out = set(rng.sample(notes, k=recorded))
        events = [e for i, e in enumerate(events) if i not in left_out]
        lap("escalations")
        _insert(TimelineEvent.__table__, list(_event_rows(events)))
        lap("events")
        extra = dashboard_rows(random.Random(random_seed + 1), incidents, customers, people, now)
        for name, rows in extra.items():  # parents before children
            _insert(db.metadata.tables[name], rows)
        lap("dashboard")

        counts = {name: db.session.scalar(select(func.count()).select_from(table)) for name, table in
                  (("incidents", Incident.__table__), ("timeline_events", TimelineEvent.__table__),
                   ("affected_customers", AffectedCustomer.__table__),
                   ("incident_responders", incident_responders), ("users", User.__table__),
                   *((name, db.metadata.tables[name]) for name in extra))}
        per_incident = sorted(db.session.execute(
            select(TimelineEvent.incident_id, func.count()).group_by(TimelineEvent.incident_id)
        ).all(), key=lambda r: r[1])
        open_count = db.session.scalar(select(func.count()).select_from(Incident.__table__)
                                       .where(Incident.status != "closed"))
        db.session.commit()
        db.session.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.session.commit()
        db.engine.dispose()
        lap("verify")

    sizes = [n for _, n in per_incident]
    summary = {
        "database": str(path), "seeded_at": now.isoformat(timespec="seconds") + "Z",
        "random_seed": random_seed, "counts": counts, "open_incidents": open_count,
        "escalations": escalated,
        "events_per_incident": {"min": sizes[0], "median": sizes[len(sizes) // 2],
                                "p99": sizes[int(len(sizes) * 0.99)], "max": sizes[-1],
                                "incidents_with_100_or_more": sum(1 for n in sizes if n >= 100)},
        "busiest_incident": {"id": per_incident[-1][0], "events": per_incident[-1][1]},
        "admin": {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        "timings_s": timings, "total_s": round(sum(timings.values()), 1),
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "seed_version": SEED_VERSION,
        "dashboard": dashboard_summary(extra, now),
    }
    Path(f"{path}.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_DB)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args(argv)
    print(f"seeding {args.path} with {args.incidents:,} incidents, {args.events:,} events", flush=True)
    summary = seed(args.path, args.incidents, args.events, args.seed)
    print(json.dumps({k: summary[k] for k in ("counts", "open_incidents", "events_per_incident",
                                              "busiest_incident", "total_s", "file_mb")},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()

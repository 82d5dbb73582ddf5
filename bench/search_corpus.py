"""Synthetic playbooks and queries for the search bench: deterministic, mixed Korean/English.

Each playbook is a CX incident write-up in the app's playbook shape (title, summary, symptoms,
steps, authority, compensation, message, escalation, prevention, tags), 1,000-2,000 bytes of
UTF-8 text in all. About 70% are written in Korean with English product and system names mixed
in, the rest in English with Korean terms. Sentences come from per-category templates filled
with products, regions, apps, payment methods, amounts, lots and order numbers, so the
vocabulary has a realistic long tail (order numbers and lots are nearly unique per document).

The 200 queries are 1-3 words in Korean, English or both, in other inflections than the
documents use (배송 지연 for 배송이 지연되어, refund for refunded), as an agent types them.
"""

from __future__ import annotations

import random

CATEGORIES = ["delivery", "product_defect", "payment", "billing", "service_outage",
              "food_safety", "abusive_customer", "other"]
CATEGORY_WEIGHTS = [25, 15, 12, 10, 8, 8, 6, 8]
GRADES = ["Red", "Orange", "Blue", "Green"]
GRADE_WEIGHTS = [6, 20, 44, 30]

PRODUCTS = ["도시락", "샐러드", "우유", "두유", "생수", "냉동 만두", "김치", "삼각김밥", "coffee beans",
            "protein bar", "baby formula", "air fryer", "무선 이어폰", "phone case", "비타민",
            "granola", "닭가슴살", "과일 세트", "rice cooker", "떡볶이 밀키트", "김밥", "찌개", "치킨",
            "케이크", "smart watch", "블루투스 스피커", "기저귀", "분유", "샴푸", "laptop stand"]
REGIONS = ["서울 강남구", "서울 마포구", "부산 해운대구", "인천 연수구", "대구 수성구", "경기 성남시",
           "경기 수원시", "광주 서구", "대전 유성구", "Jeju", "Ulsan", "세종시", "Busan hub", "Incheon hub"]
APPS = ["iOS app", "Android app", "웹 주문 페이지", "카카오 채널", "partner portal", "checkout",
        "주문 API", "push service", "CS console"]
PAYMENTS = ["카카오페이", "네이버페이", "토스", "Visa", "Mastercard", "무통장입금", "Apple Pay", "PG사"]
TEAMS = ["물류팀", "품질팀", "결제팀", "정산팀", "법무팀", "on-call engineer", "CX lead", "매장 운영팀",
         "payments on-call", "QA team", "파트너 관리팀"]
TAGS = {
    "delivery": ["배송", "물류", "새벽배송", "courier", "delivery"],
    "product_defect": ["불량", "교환", "품질", "defect", "exchange"],
    "payment": ["결제", "환불", "PG", "payment", "refund"],
    "billing": ["청구", "정기결제", "billing", "invoice", "subscription"],
    "service_outage": ["장애", "앱", "outage", "deploy", "api"],
    "food_safety": ["식품안전", "이물질", "매장", "food-safety", "recall"],
    "abusive_customer": ["폭언", "상담원보호", "abuse", "threat"],
    "other": ["개인정보", "언론", "partner", "기타"],
}

# (Korean templates, English templates) per category and section. {x} are filled per sentence.
TITLE = {
    "delivery": (["배송 지연: {region} 지역 주문 {n}일째 미도착", "{region} 새벽배송 누락 대응",
                  "배송 완료 처리됐으나 고객이 받지 못한 경우", "{product} 파손 배송 — 교환 및 사과",
                  "오배송: {product} 대신 {product2}이(가) 도착한 경우"],
                 ["Parcel stuck at the {region}", "Courier marked {product} delivered but it never arrived",
                  "Wrong item delivered: {product} instead of {product2}", "Cold chain broken on {product}"]),
    "product_defect": (["{product} 불량 — 전원이 켜지지 않는 경우", "{product} 포장 훼손 및 구성품 누락",
                        "동일 로트 {lot} {product} 불량 반복", "{product} 유통기한 지난 제품 배송"],
                       ["Defective {product}: customer wants an exchange", "Batch issue: {product} lot {lot} leaking",
                        "{product} arrived broken, photos attached"]),
    "payment": (["결제 오류: {payment} 승인 후 주문 미생성", "{payment} 이중 결제 및 환불 요청",
                 "쿠폰 적용 후 결제 금액이 다른 경우", "결제 실패 급증 ({app})"],
                ["Double charge on {payment}", "Refund not received after {n} days",
                 "Payment page timeout in {app}", "Charged but no order created ({payment})"]),
    "billing": (["정기결제 해지 후 중복 청구", "청구서 금액 오류 (₩{amount})", "멤버십 요금 이중 청구 대응"],
                ["Subscription billed after cancellation", "VAT shown twice on the invoice",
                 "Promo price not honoured at billing"]),
    "service_outage": (["{app} 로그인 장애 대응", "주문 API 5xx 급증 — {app}", "서비스 장애: {app} 응답 없음 {n}분"],
                       ["{app} login fails after the update", "Push notifications not delivered",
                        "Checkout latency above {n}s in {region}"]),
    "food_safety": (["{product}에서 이물질이 나온 경우", "{product} 섭취 후 복통 신고", "{product} 변질 및 이취 신고",
                     "곰팡이 발견 — 동일 로트 {lot} 확인"],
                    ["Customer reports food poisoning after {product}", "Allergen not labelled on {product}",
                     "Foreign object found in {product}"]),
    "abusive_customer": (["폭언 고객 응대와 상담원 보호", "반복 악성 민원 대응", "상담원 대상 욕설 및 협박"],
                         ["Customer threatening to post on SNS", "Abusive caller demanding compensation"]),
    "other": (["고객 개인정보 노출 의심 문의", "언론 문의: {product} 관련 대응", "리뷰 허위 정보 신고"],
              ["Influencer complaint about {product}", "Partner store closed without notice in {region}"]),
}
SUMMARY = {
    "delivery": (["고객이 {n}일째 배송을 받지 못했다고 문의했습니다.", "배송 조회에서는 {region} 허브에 머물러 있습니다.",
                  "배송기사와 연락이 닿지 않아 고객 불만이 커졌습니다.", "새벽배송 {n}건이 한꺼번에 지연되었습니다.",
                  "고객은 주말 가족 행사에 {product}이(가) 필요하다고 했습니다."],
                 ["Tracking showed the parcel stuck at the {region} for {n} days.",
                  "The courier could not be reached and the customer escalated on SNS.",
                  "The {product} arrived warm after the cold chain was broken.",
                  "Several orders in {region} were delayed by a dispatch error."]),
    "product_defect": (["수령 직후 {product}이(가) 작동하지 않았다고 합니다.", "동일 로트 {lot}에서 비슷한 문의가 {n}건 더 들어왔습니다.",
                        "고객이 보낸 사진에 케이스가 깨져 있었습니다.", "포장은 멀쩡했지만 구성품이 빠져 있었습니다."],
                       ["The {product} did not power on out of the box.", "Photos show a cracked casing on the {product}.",
                        "Lot {lot} produced {n} similar complaints within a week.", "The customer asked for a replacement rather than a refund."]),
    "payment": (["{payment} 승인 문자는 받았으나 주문 내역이 없었습니다.", "PG 로그에 {n}초 간격으로 승인이 두 번 찍혔습니다.",
                 "고객은 즉시 환불을 원했습니다.", "결제했는데 주문이 생성되지 않아 문의가 몰렸습니다."],
                ["The PG logs showed two approvals {n} seconds apart.", "The customer was charged twice and wanted the money back.",
                 "Refunds took {n} days because the settlement batch failed.", "Payments through {payment} failed for about {n2} minutes."]),
    "billing": (["해지했는데도 요금이 청구되었습니다.", "청구서에 프로모션 가격 대신 ₩{amount}이(가) 찍혔습니다.",
                 "고객이 카드사에 이의제기를 하겠다고 했습니다."],
                ["The invoice showed ₩{amount} instead of the promo price.", "Customers migrated in the last billing run were billed twice.",
                 "A cancelled subscription kept renewing for {n} months."]),
    "service_outage": (["모니터링에서 오류율 {n}% 이상이 감지되었습니다.", "배포 {lot} 직후 {app} 응답이 느려졌습니다.",
                        "고객센터 문의가 평소의 {n}배로 늘었습니다.", "로그인이 되지 않는다는 문의가 {n2}분 동안 이어졌습니다."],
                       ["The error rate rose right after deploy {lot}.", "{app} returned 5xx errors for {n2} minutes.",
                        "Inquiries to the contact centre rose {n} times above normal.", "The on-call engineer prepared a rollback."]),
    "food_safety": (["고객이 {product}을(를) 먹고 배탈이 났다고 전화로 알려 왔습니다.", "{product}에서 머리카락과 비닐 조각이 나왔다는 제보가 들어왔습니다.",
                     "같은 매장에서 식중독이 의심되는 문의가 하루에 {n}건 들어왔습니다.", "아이가 일부를 먹은 뒤에 이물질을 발견했다고 합니다."],
                    ["The customer says their child ate part of the {product} before noticing.",
                     "Three customers reported stomach pain after eating {product} from the same store.",
                     "A foreign object was found in {product} from lot {lot}."]),
    "abusive_customer": (["통화 중 반복적인 폭언이 있었습니다.", "고객이 사무실로 찾아오겠다고 협박했습니다.",
                          "상담원이 통화를 종료하고 팀장에게 보고했습니다."],
                         ["The customer threatened to visit the office.", "The caller used abusive language for {n} minutes.",
                          "The agent ended the call and reported to the lead."]),
    "other": (["정확한 분류가 필요한 문의였습니다.", "파트너팀에서 전달된 건입니다.", "언론사에서 {product} 관련 사실 확인을 요청했습니다."],
              ["Forwarded by the partner team.", "A journalist asked about {product}.", "The review contained false claims about delivery."]),
}
SYMPTOMS = (["같은 지역과 같은 시간대에 문의가 몰립니다.", "고객이 사진을 보내며 환불이나 교환을 원합니다.",
             "주문 내역과 결제 내역이 서로 맞지 않습니다.", "앱 리뷰와 SNS에 불만 글이 올라옵니다.",
             "같은 로트 {lot} 제품에서 비슷한 신고가 이어집니다.", "상담 대기 시간이 {n}분 이상으로 늘어납니다."],
            ["Inquiries cluster in one region and time window.", "Customers send photos and ask for a refund or exchange.",
             "Order history and payment records disagree.", "Complaints appear in app reviews and on social media.",
             "Wait time in the queue rises above {n} minutes."])
STEPS = (["고객의 상황을 먼저 확인하고 사과합니다.", "주문번호 {order}와 결제 내역을 조회합니다.", "사진과 영수증을 받아 보관합니다.",
          "{team}에 알리고 처리 상황을 타임라인에 남깁니다.", "같은 증상의 문의가 더 있는지 검색합니다.",
          "환불 또는 재배송 중 고객이 고르게 합니다.", "해당 로트 {lot}의 판매 중지를 요청합니다.", "처리 결과를 문자로 안내합니다."],
         ["Apologise and confirm what the customer experienced.", "Look up order {order} and its payment records.",
          "Keep the photos and the receipt.", "Notify the {team} and log every step on the timeline.",
          "Search for other inquiries with the same symptoms.", "Let the customer choose a refund or a redelivery.",
          "Ask the warehouse to block lot {lot}.", "Send the outcome by SMS and e-mail."])
AUTHORITY = (["상담원은 ₩{amount}까지 쿠폰을 바로 지급할 수 있습니다.", "팀장 승인 없이 전액 환불이 가능합니다.",
              "₩{amount}을(를) 넘는 보상은 매니저 승인이 필요합니다."],
             ["Agents may issue a coupon of up to ₩{amount} on their own.", "A full refund needs no lead approval.",
              "Compensation above ₩{amount} needs a manager's approval."])
COMPENSATION = (["이전 사례에서는 ₩{amount} 쿠폰과 사과 문자를 보냈습니다.", "전액 환불하고 다음 주문 배송비를 면제했습니다.",
                 "교환 상품을 다음 날 발송했습니다."],
                ["Past cases received a ₩{amount} coupon and an apology.", "We refunded in full and waived the next delivery fee.",
                 "A replacement was shipped the next day."])
MESSAGE = (["고객님, 불편을 드려 진심으로 죄송합니다. 확인 결과를 {n}시간 안에 다시 안내드리겠습니다.",
            "주문하신 {product} 관련하여 사과드립니다. 환불은 영업일 기준 {n}일 안에 처리됩니다."],
           ["We are sorry for the trouble with your {product}. We will update you within {n} hours.",
            "Your refund has been issued and should reach you within {n} business days."])
ESCALATION = (["같은 문의가 {n}건을 넘으면 {team}에 바로 에스컬레이션합니다.", "Red 등급이면 매니저에게 즉시 공유합니다.",
               "고객이 언론 제보를 언급하면 법무팀과 홍보팀에 알립니다."],
              ["Escalate to the {team} when more than {n} similar inquiries arrive.",
               "Share Red incidents with a manager at once.", "Inform legal when the customer mentions the press."])
PREVENTION = (["배송 파트너 배차 로직을 점검했습니다.", "주소 파싱 오류를 수정하는 배포가 {lot}에 포함되었습니다.",
               "공급사에 로트 {lot} 품질 보고서를 요청했습니다.", "상담 매뉴얼에 이 사례를 추가했습니다."],
              ["The courier dispatch rules were reviewed.", "A fix for address parsing shipped in deploy {lot}.",
               "The supplier was asked for a QC report on lot {lot}.", "This case was added to the agent handbook."])

# Query atoms: other inflections than the templates above (Korean endings, English forms).
QUERY_KO = ["배송 지연", "배송이 늦음", "미도착", "새벽배송", "파손", "오배송", "교환 요청", "불량품", "구성품 누락",
            "결제 오류", "이중 결제", "중복 승인", "환불 요청", "환불받지 못함", "정기결제", "해지 후 청구", "청구서",
            "로그인 장애", "오류율", "배포 롤백", "이물질", "배탈", "식중독 의심", "곰팡이", "복통", "폭언", "협박",
            "상담원 보호", "개인정보", "언론 문의", "쿠폰 지급", "사과 문자", "재배송", "판매 중지", "로트", "품질팀",
            "도시락", "샐러드", "분유", "김밥", "찌개", "매장", "카카오페이", "토스", "허브", "배송기사"]
QUERY_EN = ["delivery delay", "delayed parcel", "courier", "wrong item", "broken", "defects", "exchange",
            "double charged", "refunds", "refunded", "charge", "subscription", "invoices", "billing error",
            "outage", "login failure", "errors", "rollback", "deploys", "food poisoning", "allergen",
            "foreign object", "abusive", "threats", "journalist", "coupon", "apology", "replacement",
            "escalation", "lot", "warehouse", "timeout", "payments", "cold chain", "tracking"]


def _fill(rng: random.Random, template: str) -> str:
    return template.format(
        order=str(rng.randrange(10**9, 10**10)), n=rng.randint(2, 40), n2=rng.randint(5, 90),
        amount=f"{rng.randrange(3, 500) * 1000:,}", lot=f"L{rng.randrange(1000, 9999)}",
        product=rng.choice(PRODUCTS), product2=rng.choice(PRODUCTS), region=rng.choice(REGIONS),
        app=rng.choice(APPS), payment=rng.choice(PAYMENTS), team=rng.choice(TEAMS))


def _nbytes(parts) -> int:
    return sum(len(p.encode()) for p in parts)


def playbook(rng: random.Random) -> dict:
    """One playbook as a dict of the table's text columns plus language, grade, category, tags."""
    category = rng.choices(CATEGORIES, weights=CATEGORY_WEIGHTS)[0]
    language = "ko" if rng.random() < 0.7 else "en"
    main, other = (0, 1) if language == "ko" else (1, 0)

    used: set[str] = set()

    def pick(pools: tuple[list[str], list[str]]) -> str:
        # Mostly the playbook's own language, one sentence in five in the other one; a
        # template at most once per playbook.
        for _ in range(8):
            pool = pools[other] if rng.random() < 0.2 else pools[main]
            template = rng.choice(pool)
            if template not in used:
                break
        used.add(template)
        return _fill(rng, template)

    title = _fill(rng, rng.choice(TITLE[category][main]))
    fields = {"summary": [pick(SUMMARY[category])], "symptoms": [pick(SYMPTOMS)],
              "steps": [pick(STEPS)], "authority": [pick(AUTHORITY)],
              "compensation": [pick(COMPENSATION)], "message": [pick(MESSAGE)],
              "escalation": [pick(ESCALATION)], "prevention": [pick(PREVENTION)]}
    target = rng.randint(1000, 1850)
    growable = [("summary", SUMMARY[category]), ("symptoms", SYMPTOMS), ("steps", STEPS),
                ("steps", STEPS), ("prevention", PREVENTION), ("escalation", ESCALATION)]
    for _ in range(60):  # bounded; ~10-20 sentences reach the target
        if _nbytes([title, *(s for v in fields.values() for s in v)]) >= target:
            break
        name, pools = rng.choice(growable)
        fields[name].append(pick(pools))
    row = {"title": title}
    for name, sentences in fields.items():
        if name == "steps":
            row[name] = "\n".join(f"{i}. {s}" for i, s in enumerate(sentences, start=1))
        else:
            row[name] = " ".join(sentences)
    row.update(language=language, category=category,
               grade=rng.choices(GRADES, weights=GRADE_WEIGHTS)[0],
               tags=rng.sample(TAGS[category], k=rng.randint(1, 3)))
    return row


def corpus(n: int, seed: int = 20261122) -> list[dict]:
    rng = random.Random(seed)
    return [playbook(rng) for _ in range(n)]


def queries(n: int = 200, seed: int = 7) -> list[str]:
    """n distinct queries: 40% Korean, 30% English, 30% mixed; 1-3 words."""
    rng = random.Random(seed)
    out: dict[str, None] = {}
    for _ in range(n * 50):  # bounded
        if len(out) >= n:
            break
        kind = rng.choices(("ko", "en", "mixed"), weights=(40, 30, 30))[0]
        words = rng.choices((1, 2, 3), weights=(35, 40, 25))[0]
        if kind == "ko":
            atoms = [rng.choice(QUERY_KO)]
        elif kind == "en":
            atoms = [rng.choice(QUERY_EN)]
        else:
            atoms = [rng.choice(QUERY_KO), rng.choice(QUERY_EN)]
        text = list(dict.fromkeys(" ".join(atoms).split()))
        pool = QUERY_KO if kind == "ko" else QUERY_EN if kind == "en" else QUERY_KO + QUERY_EN
        for _ in range(10):
            if len(text) >= words:
                break
            word = rng.choice(pool).split()[0]
            if word not in text:
                text.append(word)
        out[" ".join(text[:words])] = None
    return list(out)


if __name__ == "__main__":
    sample = corpus(2000)
    sizes = sorted(sum(len(v.encode()) for k, v in p.items() if isinstance(v, str) and k not in
                       ("language", "category", "grade")) for p in sample)
    print("bytes p5/p50/p95:", sizes[100], sizes[1000], sizes[1900])
    for k, v in sample[0].items():
        print(f"{k}: {v}")
    print(sample[1]["title"], "|", sample[1]["summary"])
    qs = queries()
    print(len(qs), qs[:20])

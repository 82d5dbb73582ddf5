"""Bilingual demo data (`flask --app wsgi demo`): a small CX team and their incidents."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app import users as user_services
from app.extensions import db
from app.models import Role, User
from app.timeutil import as_utc, utcnow
from incidents import services
from incidents.models import Channel, EventKind, Incident, Status
from incidents.services import CustomerData

SEOUL = ZoneInfo("Asia/Seoul")
# Strong enough for the password check (app.users), which refuses "demo-password".
DEMO_PASSWORD = "demo-lantern-harbour"
HOUR, DAY = 60, 24 * 60  # step offsets are in minutes after detection


# --- the team -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    key: str
    email: str
    name: str
    title: str
    role: Role
    locale: str


TEAM = (
    Person("seoyeon", "seoyeon.kim@example.com", "김서연", "CX팀장", Role.lead, "ko"),
    Person("jihoon", "jihoon.park@example.com", "박지훈", "CX 상담원", Role.agent, "ko"),
    Person("haeun", "haeun.lee@example.com", "이하은", "CX 상담원 (주말 근무)", Role.agent, "ko"),
    Person("doyun", "doyun.jung@example.com", "정도윤", "결제 서비스 개발자", Role.agent, "ko"),
    Person("minjun", "minjun.choi@example.com", "최민준", "운영본부장", Role.manager, "ko"),
    Person("marcus", "marcus.hale@example.com", "Marcus Hale", "Support Team Lead", Role.lead, "en"),
    Person("emily", "emily.carter@example.com", "Emily Carter", "Customer Support Agent",
           Role.agent, "en"),
    Person("daniel", "daniel.brooks@example.com", "Daniel Brooks", "Site Reliability Engineer",
           Role.agent, "en"),
    Person("oliver", "oliver.bennett@example.com", "Oliver Bennett", "IT Administrator",
           Role.admin, "en"),
    Person("sohee", "sohee.yoon@example.com", "윤소희", "재무 분석가", Role.viewer, "ko"),
)


# --- when things happened -----------------------------------------------------------------------

When = Callable[[datetime], datetime]  # the current UTC time -> a detection time in UTC


def hours_ago(hours: float) -> When:
    return lambda now: now - timedelta(hours=hours)


def days_ago_at(days: int, clock: str) -> When:
    """`days` calendar days ago in Seoul, at the Seoul wall-clock time `clock` ("09:02")."""
    def when(now: datetime) -> datetime:
        day = now.astimezone(SEOUL).date() - timedelta(days=days)
        return as_utc(datetime.combine(day, time.fromisoformat(clock), SEOUL))
    return when


def last_saturday_at(clock: str) -> When:
    """The latest Saturday at least two days back, so a weekend story has fully played out."""
    def when(now: datetime) -> datetime:
        today = now.astimezone(SEOUL).date()
        back = (today.weekday() - 5) % 7
        return days_ago_at(back if back >= 2 else back + 7, clock)(now)
    return when


# --- what happened ------------------------------------------------------------------------------

NOTE, ACTION, EDIT = "note", "action", "edit"


@dataclass(frozen=True)
class Step:
    minutes: int  # after detection
    actor: str  # a Person.key
    what: str | Status  # NOTE, ACTION, EDIT or the status to move to
    text: str = ""
    changes: dict = field(default_factory=dict)


def note(minutes: int, actor: str, text: str) -> Step:
    return Step(minutes, actor, NOTE, text)


def act(minutes: int, actor: str, text: str) -> Step:
    return Step(minutes, actor, ACTION, text)


def move(minutes: int, actor: str, status: Status, text: str = "") -> Step:
    return Step(minutes, actor, status, text)


def edit(minutes: int, actor: str, **changes: str) -> Step:
    return Step(minutes, actor, EDIT, changes=changes)


@dataclass(frozen=True)
class Story:
    title: str
    grade: str
    category: str
    channel: Channel
    detected: When
    reporter: str
    owner: str
    description: str
    impact: str = ""
    affected_count: int | None = None
    responders: tuple[str, ...] = ()
    customers: tuple[CustomerData, ...] = ()
    abusive_customer: bool = False
    one_stop: bool = False
    reported_after: int = 0  # minutes between detection and the incident being opened
    steps: tuple[Step, ...] = ()


S = Status
STORIES = (
    Story(
        title="Card payments declined for business accounts after the 02:00 deploy",
        grade="Orange", category="payment", channel=Channel.internal,
        detected=days_ago_at(9, "09:02"), reporter="emily", owner="marcus",
        responders=("daniel", "emily"), affected_count=37, reported_after=2,
        description="Business customers started calling at opening time: every card payment on a "
                    "business account was declined at checkout, personal accounts were fine. "
                    "Reported in the #bug-report channel at 09:04.",
        impact="37 business accounts could not pay for orders between 02:00 and 09:16; several "
               "lost same-day orders from their own customers.",
        customers=(
            CustomerData("Laura Stein (Bluebell Bakery)", "laura@bluebell-bakery.example.com",
                         "ACC-B-10482", "Four catering orders failed; she paid a courier to "
                         "deliver from another supplier."),
            CustomerData("Martin Okafor (Northside Florist)", "+82 10-4417-2093", "ACC-B-11730",
                         "Weekly stock order failed twice."),
        ),
        steps=(
            note(3, "emily", "Reproduced with the test business card: checkout says 'payment "
                             "declined' every time. Personal test account pays fine."),
            move(5, "marcus", S.shared, "Shared in #bug-report and paged the on-call developer."),
            act(12, "daniel", "Rolled back the 02:00 deploy. Business card payments go through "
                              "again."),
            move(14, "daniel", S.mitigated, "Payments confirmed working on three business accounts."),
            note(95, "marcus", "Called all 37 affected business customers, explained what broke "
                               "and offered to cover their documented losses in full."),
            edit(6 * HOUR, "daniel",
                 cause="The deploy changed how the payment request names the card holder; "
                       "business cards carry a company name the gateway rejected in the new "
                       "format. QA only ran personal cards.",
                 resolution="Rolled back within ten minutes of the report. Every affected "
                            "business customer was compensated 100% of the loss they showed us; "
                            "none cancelled. QA now runs a business-card checkout before each "
                            "deploy."),
            move(8 * HOUR, "marcus", S.resolved, "All compensation paid. Postmortem draft next."),
        ),
    ),
    Story(
        title="배달 도시락 섭취 후 식중독 증상 — 고객 병원 진료",
        grade="Red", category="food_safety", channel=Channel.phone,
        detected=days_ago_at(3, "10:20"), reporter="jihoon", owner="seoyeon",
        responders=("jihoon", "minjun"), affected_count=3, reported_after=4,
        description="어제 저녁 성수점에서 배달된 닭갈비 도시락을 드신 고객이 밤새 복통과 설사로 "
                    "오늘 아침 내과 진료를 받으셨다고 전화 주셨습니다.",
        impact="고객 건강 피해 (진료 1건, 유사 증상 2건). 같은 날 조리분을 드신 고객이 더 있을 수 "
               "있습니다.",
        customers=(
            CustomerData("정미경", "010-2841-7730", "주문번호 ORD-58213",
                         "복통·설사로 내과 진료. 중요한 가족 행사에 참석하지 못했다고 하심."),
            CustomerData("송재현", "010-7730-1956", "주문번호 ORD-58247", "가벼운 복통."),
            CustomerData("배수아", "sua.bae@example.com", "주문번호 ORD-58260", "복통, 진료는 받지 않음."),
        ),
        steps=(
            note(10, "jihoon", "고객님 통화 내용: 어제 19시경 도시락 섭취, 새벽부터 증상. 진단서 사본을 "
                               "요청드렸고 먼저 깊이 사과드렸습니다."),
            move(14, "seoyeon", S.shared, "운영본부장님께 즉시 보고, 성수점 점장님께도 공유했습니다."),
            act(40, "seoyeon", "성수점 닭갈비 도시락 판매 중지, 같은 날 조리분 전량 폐기 지시."),
            move(45, "seoyeon", S.mitigated),
            note(3 * HOUR, "jihoon", "같은 지점 주문 고객 두 분이 비슷한 증상으로 문의. 총 세 분이며 "
                                     "고객 목록에 추가했습니다."),
            act(1 * DAY, "minjun", "세 분 모두 전액 환불과 대체 식사 제공. 정미경 고객님의 행사 불참 "
                                   "보상 요청은 정책 범위를 넘어 본부장 검토로 올렸습니다."),
            note(1 * DAY + 3 * HOUR, "seoyeon", "보건소 위생 점검 일정 확인 중. 공개 사과문 초안은 "
                                                "본부장님 명의로 준비합니다."),
        ),
    ),
    Story(
        title="주말 배송 지연 — 토요일 오후 주문 120여 건 미도착",
        grade="Orange", category="delivery", channel=Channel.social,
        detected=last_saturday_at("15:40"), reporter="haeun", owner="seoyeon",
        responders=("haeun",), affected_count=124, reported_after=10,
        description="토요일 오후 인스타그램과 X에 '주문한 지 세 시간째 배송이 안 온다'는 게시글이 "
                    "잇달아 올라왔습니다. 서부 허브 관할 주문에 집중되어 있습니다.",
        impact="124건 주문이 2~4시간 지연. 신선식품 일부는 반품 요청.",
        steps=(
            note(25, "haeun", "SNS 게시글 18건 캡처해서 공유했습니다. 댓글로 사과드리고 DM으로 "
                              "주문번호를 받고 있습니다."),
            move(70, "seoyeon", S.shared, "주말 당번 팀장에게 공유. 당번 연락처를 찾느라 공유가 "
                                          "늦었습니다 — 주말 연락 경로를 정리해야 합니다."),
            act(150, "seoyeon", "물류팀 통화: 서부 허브 기사 4명 결원. 인근 허브 기사 6명 추가 투입."),
            move(160, "seoyeon", S.mitigated, "신규 주문은 정상 시간 안에 배송되고 있습니다."),
            edit(26 * HOUR, "seoyeon",
                 cause="주말 물량이 평일보다 35% 많은데 배차는 평일 기준 그대로였고, 결원을 채울 "
                       "대기 인력이 없었습니다.",
                 resolution="지연 고객 전원에게 사과 문자와 다음 주문 20% 할인 쿠폰 발급. 신선식품 "
                            "반품 11건 환불. 주말 배차를 주말 물량 기준으로 바꾸고 대기 기사 2명을 "
                            "두기로 했습니다."),
            move(27 * HOUR, "seoyeon", S.resolved, "쿠폰 발급 완료. 회고 작성 예정."),
        ),
    ),
    Story(
        title="Customer threatens one-star reviews everywhere unless sent three free meal kits",
        grade="Blue", category="abusive_customer", channel=Channel.chat,
        detected=days_ago_at(6, "20:12"), reporter="emily", owner="marcus",
        responders=("emily",), affected_count=1, abusive_customer=True, reported_after=5,
        description="A customer wrote in chat that his sauce packet was missing and that he would "
                    "'post one-star reviews on every site' unless we sent three meal kits for free. "
                    "He then insulted the agent by name.",
        impact="One customer; threat to post reviews. The box arrived on time and intact "
               "(driver photo on file).",
        customers=(
            CustomerData("Kevin Hollis", "kevin.hollis@example.com", "ORD-60117",
                         "Reports a missing sauce packet."),
        ),
        steps=(
            act(6, "marcus", "Took Emily off the chat; I am handling the customer from here as lead "
                             "on duty."),
            move(8, "marcus", S.shared),
            note(40, "marcus", "Offered what we offer anyone missing an item: a replacement sauce and "
                               "10% off the next order. He declined and repeated the threat."),
            edit(1 * DAY, "marcus",
                 resolution="Lead's decision: we part ways. Refunded the last order in full, closed "
                            "the account for new orders, and sent a short factual reply. Emily was "
                            "not asked to deal with him again."),
            move(1 * DAY + 10, "marcus", S.resolved),
            move(2 * DAY, "marcus", S.closed, "Decision recorded. No further contact."),
        ),
    ),
    Story(
        title="연간 구독 이중 결제 — 같은 카드로 두 번 청구",
        grade="Blue", category="billing", channel=Channel.email,
        detected=days_ago_at(12, "11:05"), reporter="jihoon", owner="jihoon", affected_count=1,
        reported_after=20,
        description="고객님이 카드 명세서 캡처와 함께 연간 구독료 89,000원이 두 번 빠져나갔다고 "
                    "메일 주셨습니다.",
        impact="고객 한 분, 89,000원 중복 청구.",
        customers=(
            CustomerData("오세린", "seorin.oh@example.com", "구독 SUB-88412", "89,000원 중복 청구."),
        ),
        steps=(
            note(30, "jihoon", "결제대행사 관리 화면에서 1초 간격으로 승인된 2건 확인했습니다."),
            move(35, "jihoon", S.shared, "팀장님께 공유했습니다."),
            act(40, "jihoon", "중복 1건 취소 요청. 카드사 환불까지 3~5영업일 걸린다고 안내드렸습니다."),
            move(45, "jihoon", S.mitigated),
            edit(3 * DAY, "jihoon",
                 cause="결제 버튼을 빠르게 두 번 누르면 중복 요청이 막히지 않았습니다.",
                 resolution="중복분 89,000원 전액 취소, 사과 메일과 함께 1개월 이용권을 드렸습니다. "
                            "결제 버튼 중복 클릭 방지를 개발팀에 요청했습니다."),
            move(3 * DAY + 5, "jihoon", S.resolved, "환불 확인 메일을 받았습니다."),
            move(4 * DAY, "seoyeon", S.closed),
        ),
    ),
    Story(
        title="Welcome coupon not applied at checkout",
        grade="Green", category="payment", channel=Channel.chat,
        detected=days_ago_at(2, "13:47"), reporter="emily", owner="emily", affected_count=1,
        one_stop=True,
        description="New customer entered the WELCOME15 code; checkout accepted it but charged "
                    "the full price.",
        customers=(
            CustomerData("Priya Raman", "priya.raman@example.com", "ORD-61402",
                         "Paid 15% more than expected."),
        ),
        steps=(
            act(3, "emily", "Refunded the 15% difference to her card and apologised; she is happy."),
            edit(4, "emily", cause="The coupon does not combine with free delivery; the checkout "
                                   "page did not say so.",
                 resolution="Refunded the difference at first contact."),
            move(5, "emily", S.resolved, "Resolved in the chat."),
            move(6, "emily", S.closed),
        ),
    ),
    Story(
        title="수강 기간 연장 요청 — 출장으로 2주간 수강 불가",
        grade="Green", category="other", channel=Channel.phone,
        detected=days_ago_at(1, "10:15"), reporter="jihoon", owner="jihoon", affected_count=1,
        one_stop=True,
        description="해외 출장으로 2주 동안 강의를 듣지 못한다며 수강 기간 연장을 요청하셨습니다.",
        customers=(
            CustomerData("한도윤", "010-5521-0938", "수강권 CLS-2291", "남은 기간 16일."),
        ),
        steps=(
            act(3, "jihoon", "CX 위임 권한(최대 14일)으로 수강 기간을 14일 연장해 드렸습니다."),
            edit(4, "jihoon", resolution="통화 중에 수강 기간 14일 연장. 일시정지 기능이 있으면 "
                                         "고객이 직접 할 수 있는 요청이라 제품팀에 제안했습니다."),
            move(5, "jihoon", S.resolved, "통화 중에 바로 처리했습니다."),
        ),
    ),
    Story(
        title="Checkout and login down for all users — database failover stuck",
        grade="Red", category="service_outage", channel=Channel.monitoring,
        detected=hours_ago(2), reporter="daniel", owner="daniel",
        responders=("marcus", "minjun"), affected_count=4800,
        description="Monitoring alert: 5xx rate on checkout and login above 90%. The primary "
                    "database was being upgraded and the failover never finished.",
        impact="No one can sign in or pay. About 4,800 sessions affected so far; social posts "
               "starting.",
        steps=(
            note(1, "daniel", "5xx rate 94% on /checkout and /login. Primary DB unreachable."),
            move(9, "daniel", S.shared, "Paged the executive on call. Status page: 'We are having "
                                        "technical problems after a recent upgrade. We are very "
                                        "sorry and will update you as soon as it is fixed.'"),
            act(40, "daniel", "Promoted the replica by hand; the failover script was stuck on a "
                              "stale lock."),
            note(55, "marcus", "Login is recovering; checkout still fails at order confirmation. "
                               "Support has a holding reply for chat and phone."),
        ),
    ),
    Story(
        title="무선 이어폰 충전 케이스 발열 신고 3건 (같은 로트)",
        grade="Orange", category="product_defect", channel=Channel.email,
        detected=hours_ago(20), reporter="haeun", owner="seoyeon", affected_count=3,
        reported_after=15,
        description="충전 중 케이스가 손으로 잡기 어려울 만큼 뜨거워진다는 메일이 세 건 들어왔습니다. "
                    "세 제품 모두 LOT 2411-B입니다.",
        impact="안전 문제 가능성. 같은 로트 판매량 약 1,900개.",
        customers=(
            CustomerData("강민서", "minseo.kang@example.com", "ORD-59940", "충전 중 발열."),
            CustomerData("임태윤", "010-3318-6042", "ORD-60021", "발열, 케이스 변형 사진 있음."),
            CustomerData("서예린", "yerin.seo@example.com", "ORD-60388", "발열."),
        ),
        steps=(
            note(20, "haeun", "세 분께 사진과 사용 중인 충전기 정보를 요청드렸습니다. 사용 중지를 "
                              "먼저 안내드렸습니다."),
        ),
    ),
    Story(
        title="Parcel marked delivered but not received",
        grade="Blue", category="delivery", channel=Channel.phone,
        detected=hours_ago(3), reporter="emily", owner="emily", affected_count=1,
        description="The tracking page said delivered an hour before the call; the customer has "
                    "nothing at the door or with the concierge.",
        customers=(
            CustomerData("Tom Fletcher", "+82 10-3391-2287", "ORD-61877", "Birthday gift, needed "
                         "by tomorrow."),
        ),
        steps=(
            note(5, "emily", "Asked the driver for the delivery photo and the customer to check "
                             "with neighbours. Promised a call back within two hours."),
        ),
    ),
    Story(
        title="새로 받은 전기포트 뚜껑 파손 — 교환 요청",
        grade="Blue", category="product_defect", channel=Channel.chat,
        detected=days_ago_at(4, "16:30"), reporter="haeun", owner="haeun", affected_count=1,
        one_stop=True,
        description="상품을 열어 보니 전기포트 뚜껑 경첩이 부러져 있었다고 사진과 함께 문의하셨습니다.",
        customers=(
            CustomerData("윤하린", "harin.yoon@example.com", "ORD-60754", "뚜껑 경첩 파손."),
        ),
        steps=(
            note(2, "haeun", "사진 확인했습니다. 상자 모서리가 눌려 있어 배송 중 파손으로 보입니다."),
            act(4, "haeun", "교환 상품 오늘 발송, 파손품은 내일 회수 기사님이 방문합니다."),
            edit(5, "haeun", resolution="상담 중에 교환 발송과 회수 접수를 마쳤습니다."),
            move(6, "haeun", S.resolved, "불편을 드려 죄송하다고 말씀드렸고, 고객님도 만족하셨습니다."),
            move(2 * DAY, "haeun", S.closed, "회수 완료 확인 후 종결합니다."),
        ),
    ),
    Story(
        title="Invoices from the last billing run used an outdated VAT rate",
        grade="Orange", category="billing", channel=Channel.internal,
        detected=days_ago_at(8, "14:10"), reporter="marcus", owner="marcus",
        responders=("daniel",), affected_count=14, reported_after=5,
        description="Finance noticed the VAT line on business invoices did not match the ledger. "
                    "The billing service still read the rate from an old configuration file.",
        impact="14 business customers received invoices with the wrong tax amount; two have "
               "already paid them.",
        steps=(
            move(20, "marcus", S.shared, "Shared with finance and the billing developers."),
            note(2 * HOUR, "daniel", "Confirmed: the billing job reads a stale config file. Only "
                                     "the last run is affected."),
            act(3 * HOUR, "marcus", "Voided the 14 invoices and reissued them with the correct "
                                    "rate, with a short apology from me."),
            move(3 * HOUR + 10, "marcus", S.mitigated, "Corrected invoices sent; refunds for the "
                                                       "two paid invoices are pending."),
        ),
    ),
    Story(
        title="앱 주문 알림 푸시가 두 번씩 온다는 SNS 문의",
        grade="Green", category="other", channel=Channel.social,
        detected=hours_ago(30), reporter="haeun", owner="haeun", affected_count=5,
        description="X(트위터)에서 '주문 알림이 두 번씩 온다'는 멘션이 다섯 건 있었습니다.",
        steps=(
            note(30, "haeun", "멘션에 답글로 사과드리고 앱 버전을 여쭤봤습니다. 모두 안드로이드 최신 "
                              "버전입니다."),
        ),
    ),
    Story(
        title="Class video stalls at the 10-minute mark for one customer",
        grade="Blue", category="service_outage", channel=Channel.email,
        detected=days_ago_at(10, "21:30"), reporter="emily", owner="emily", affected_count=1,
        description="A student wrote that every lesson video in her course stops at 10:00 and "
                    "will not resume.",
        customers=(
            CustomerData("Hannah Kim", "hannah.kim@example.com", "Course CLS-3107",
                         "Could not watch lessons for four days."),
        ),
        steps=(
            note(1 * HOUR, "emily", "Could you send a screenshot? Asked her, and the screenshot "
                                    "shows a browser version that is three years old."),
            move(1 * HOUR + 5, "emily", S.shared),
            act(2 * HOUR, "emily", "Sent steps to update the browser and extended her course by "
                                   "four days for the time she lost."),
            move(2 * HOUR + 5, "emily", S.mitigated),
            edit(1 * DAY - 5, "emily",
                 cause="An outdated browser could not play the new video format.",
                 resolution="Browser update steps sent; course extended by four days for the "
                            "lost time."),
            move(1 * DAY, "emily", S.resolved, "She confirmed the videos play through. Glad it is "
                                               "resolved, and thanked her for reporting it."),
            move(2 * DAY, "marcus", S.closed),
        ),
    ),
    Story(
        title="간편결제 승인 후 주문 미생성 — 결제대행사 콜백 지연",
        grade="Orange", category="payment", channel=Channel.monitoring,
        detected=hours_ago(36), reporter="doyun", owner="doyun", responders=("jihoon",),
        affected_count=23,
        description="모니터링 알림: 간편결제 승인 건수와 생성된 주문 수가 30분째 맞지 않습니다.",
        impact="결제는 됐는데 주문이 없는 고객 23명. 고객센터 문의가 늘고 있습니다.",
        steps=(
            note(5, "doyun", "결제 오류 재현 완료, 개발팀에 공유했습니다."),
            move(8, "doyun", S.shared, "CX팀에도 공유해서 문의 응대 문구를 맞췄습니다."),
            note(2 * HOUR, "doyun", "결제대행사 콜백이 최대 40분 늦게 와서 주문 생성 단계가 시간 "
                                    "초과로 버려지고 있습니다. 누락 주문 23건 수동 생성 중."),
            note(3 * HOUR, "jihoon", "문의 주신 고객 9분께 '오늘 안에 해결해 드리겠습니다'라고 "
                                     "안내드렸습니다."),
        ),
    ),
)


# --- loading ------------------------------------------------------------------------------------

MARKER_TITLE = STORIES[0].title  # its presence means the demo incidents were already loaded


def _team(password: str) -> tuple[dict[str, User], list[str]]:
    team, lines = {}, []
    for person in TEAM:
        user = user_services.find_by_email(person.email)
        suffix = ""
        if user is None:
            user = user_services.create_user(email=person.email, name=person.name,
                                             title=person.title, role=person.role,
                                             password=password, locale=person.locale)
        else:
            suffix = "  (already existed; password unchanged)"
        team[person.key] = user
        lines.append(f"  {user.email:<28} {user.role.value:<8} {user.name}, {user.title}{suffix}")
    return team, lines


def _tell(story: Story, team: dict[str, User], now: datetime) -> Incident:
    """Create one incident and replay its story through the services, at the story's times."""
    detected = story.detected(now)

    def at(minutes: int) -> datetime:
        return min(detected + timedelta(minutes=minutes), now)

    opened = at(story.reported_after)
    incident = services.create_incident(
        team[story.reporter], title=story.title, grade=services.find_grade(story.grade),
        description=story.description, category=services.find_category(story.category),
        channel=story.channel, detected_at=detected, owner=team[story.owner],
        impact=story.impact, affected_count=story.affected_count, customers=story.customers,
        abusive_customer=story.abusive_customer, one_stop=story.one_stop,
        responders=[team[key] for key in story.responders], now=opened)
    for step in story.steps:
        when, actor = at(step.minutes), team[step.actor]
        if step.what == EDIT:
            services.update_incident(actor, incident, step.changes, now=when)
        elif isinstance(step.what, Status):
            services.change_status(actor, incident, step.what, step.text, now=when)
        else:
            services.add_event(actor, incident, EventKind(step.what), step.text, now=when)
    return incident


def load_demo(password: str = DEMO_PASSWORD) -> str:
    """Create the demo team and incidents; flush only, the caller commits."""
    now = utcnow()
    team, user_lines = _team(password)
    lines = ["Demo team (sign in with the password given to `flask demo --password`):",
             *user_lines]
    if db.session.scalar(select(Incident.id).where(Incident.title == MARKER_TITLE).limit(1)):
        lines.append(f'Demo incidents are already loaded ("{MARKER_TITLE}" exists); '
                     "created none.")
    else:
        for story in STORIES:
            _tell(story, team, now)
        lines.append(f"Created {len(STORIES)} demo incidents "
                     f"({sum(1 for s in STORIES if _is_korean(s.title))} in Korean).")
    return "\n".join(lines)


def _is_korean(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)

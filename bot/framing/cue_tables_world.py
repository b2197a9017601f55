"""More of the frame's vocabulary: Arabic, Russian, Korean, Hindi and Vietnamese, gaps in the first languages, and
the families the fitted engine added (metaphors, "two superpowers", capitals, reported-then-dismissed claims).

Same format as cue_tables.py: (word entries, literal entries). Word entries are regexes bounded on both sides and
suit scripts with spaces between words (Latin with Vietnamese letters, Cyrillic, Devanagari); literal entries
match anywhere and suit Arabic (whose articles and conjunctions attach to the word: "والصين" is "and China"),
Korean (particles attach: "중국이") and CJK. Entries are normalised like the text, so write them as spelled.
The words are dictionary vocabulary for each family, checked against the bundled labelled set; the fitted weights
decide how much each family counts, measured out of sample (bot/framing/fit.py).
"""

from __future__ import annotations

Table = tuple[list[str], list[str]]

# fmt: off
MORE: dict[str, Table] = {
    "us_noun": (
        [r"сша", r"америк(?:а|и|е|у|ой)", r"вашингтон\w*", r"запад(?:а|у|ом|е)?", r"белый дом",
         r"अमेरिका", r"अमरीका", r"वाशिंगटन", r"यूएस", r"संयुक्त राज्य\w*", r"व्हाइट हाउस",
         r"(?<!thẩm )mỹ(?! (?:phẩm|thuật|nhân|miều))", r"hoa kỳ", r"phương tây", r"nhà trắng"],
        ["الولايات المتحدة", "أمريكا", "امريكا", "أميركا", "واشنطن", "البيت الأبيض", "آمریکا", "الغرب",
         "미국", "워싱턴", "백악관", "미 정부"],
    ),
    "us_adj": (
        [r"американ\w*", r"западн\w*", r"अमेरिकी", r"अमरीकी", r"पश्चिमी"],
        ["الأمريكي", "الأميركي", "الامريكي", "الأمريكية", "الأميركية", "أمريكية", "أميركية", "الغربية", "미국산",
         "미국의"],
    ),
    "cn_noun": (
        [r"кита(?:й|я|ю|ем|е)", r"пекин\w*", r"кнр", r"кпк", r"चीन", r"बीजिंग", r"trung quốc", r"bắc kinh",
         r"đảng cộng sản"],
        ["الصين", "بكين", "چین", "الحزب الشيوعي", "중국", "베이징", "중공", "시진핑"],
    ),
    "cn_adj": (
        [r"китайск\w*", r"चीनी", r"चीन के"],
        ["الصيني", "الصينية", "صينية", "صيني", "중국산", "중국의"],
    ),
    "pair": (
        [r"американо-китайск\w*", r"китайско-американск\w*", r"mỹ ?- ?trung", r"trung ?- ?mỹ", r"sino-american",
         r"us-china", r"china-us", r"u\.s\.-china", r"america-china", r"china-america"],
        ["미중", "미·중", "한미중", "중미", "الصينى-الأمريكى", "الصيني-الأمريكي", "الأمريكي-الصيني"],
    ),
    "company": (
        [r"силиконов\w* долин\w*", r"thung lũng silicon"], ["وادي السيليكون", "실리콘밸리", "빅테크"],
    ),
    "cn_lab": (
        [r"дипсик\w*", r"दीपसीक", r"डीपसीक", r"अलीबाबा", r"हुआवेई"],
        ["ديب سيك", "ديبسيك", "علي بابا", "هواوي", "딥시크", "알리바바", "화웨이", "바이두", "텐센트", "큐웬"],
    ),
    "bloc": (
        [r"держав\w*", r"сверхдержав\w*", r"геополит\w*", r"стран(?:а|ы|у|ой|ам|ами|ах)?", r"महाशक्ति\w*",
         r"देश(?:ों)?", r"भू-राजनीति\w*", r"cường quốc", r"siêu cường", r"quốc gia", r"địa chính trị"],
        ["ابرقدرت", "القوى الكبرى", "القوتين", "القوتان", "قوة عظمى", "جيوسياس", "الدول",
         "초강대국", "강대국", "패권국", "지정학", "국가"],
    ),
    "contest": (
        [r"гонк\w*", r"войн(?:а|ы|у|ой|е)", r"противостояни\w*", r"соперничеств\w*", r"борьб\w*", r"гегемон\w*",
         r"господств\w*", r"превосходств\w*", r"битв\w*", r"схватк\w*", r"дуэл\w*",
         r"दौड़", r"होड़", r"युद्ध", r"जंग", r"वर्चस्व", r"प्रतिस्पर्धा", r"मुकाबल\w*", r"रेस", r"लड़ाई",
         r"cuộc đua", r"chạy đua", r"đua", r"cuộc chiến", r"chiến tranh", r"bá quyền", r"đối đầu", r"kình địch",
         r"ngôi vương", r"clinch\w*", r"face-?off", r"tug of war", r"great game"],
        ["سباق", "حرب", "صراع", "الهيمنة", "هيمنة", "التنافس", "تنافس", "المنافسة", "معركة", "مضمار",
         "경쟁", "패권", "전쟁", "대결", "레이스", "각축", "군비경쟁", "주도권", "승부", "장기전", "굴기",
         "攻防", "覇権争い", "争霸赛"],
    ),
    "scoreboard": (
        [r"опереди\w*", r"опережа\w*", r"обогна\w*", r"обгоня\w*", r"отста\w*", r"догна\w*", r"догоня\w*",
         r"лидир\w*", r"лидерств\w*", r"лидер\w*", r"побед\w*", r"выигр\w*", r"проигр\w*", r"разрыв\w*",
         r"впереди", r"позади", r"превзо\w*", r"преимуществ\w*", r"дышит в спину",
         r"आगे", r"पीछे", r"पछाड़\w*", r"जीत\w*", r"बढ़त", r"अग्रणी", r"नेतृत्व", r"मात", r"बराबरी", r"दबदबा", r"टक्कर",
         r"dẫn đầu", r"vượt(?: qua| mặt)?", r"đi sau", r"tụt hậu", r"bắt kịp", r"đuổi kịp", r"thắng", r"chiến thắng",
         r"thua", r"khoảng cách", r"bỏ xa", r"thống trị", r"lợi thế", r"ưu thế",
         r"clinch\w*", r"top dog", r"world leader\w*", r"global leader\w*", r"leader mondial", r"pole position",
         r"no contest", r"game over", r"cedes?", r"ceding"],
        ["تتفوق", "يتفوق", "تفوق", "تسبق", "يسبق", "تتقدم", "متقدمة", "تتخلف", "متأخرة", "تجاوز", "تتجاوز",
         "تلحق", "اللحاق", "الفوز", "تفوز", "يفوز", "فائز", "تخسر", "خسارة", "الصدارة", "الريادة", "الهوة",
         "الفجوة", "تضيق", "قيادة", "تقود", "زمام",
         "앞서", "추월", "뒤처", "따라잡", "추격", "우위", "승리", "승자", "이길", "이기", "패배", "격차", "선두",
         "주도", "압도", "리더십", "제치", "最强", "最強", "顶端", "頂端", "塔尖"],
    ),
    "contest_weak": (
        [r"конкурен\w*", r"угроз\w*", r"соперни\w*", r"соревнов\w*", r"प्रतिद्वंद्वी", r"खतरा", r"चुनौती",
         r"đối thủ", r"đe dọa", r"thách thức", r"cạnh tranh", r"tham vọng"],
        ["منافس", "تهديد", "تحدي", "라이벌", "위협", "견제", "경쟁자", "도전장"],
    ),
    "phrase": (
        [r"(?:next|new|prochaine|nouvelle) h[ée]g[ée]mon\w*", r"(?:rule|dominate|control) the world",
         r"гонк\w* (?:в сфере |в области )?(?:ии|искусственного интеллекта)", r"एआई (?:की )?(?:दौड़|होड़|वर्चस्व)",
         r"bá quyền (?:ai|trí tuệ nhân tạo|công nghệ)"],
        ["الهيمنة على الذكاء", "ai 패권", "ai패권", "인공지능 패권", "ai 군비경쟁"],
    ),
    "counter": (
        [r"нарратив\w*", r"миф\w*", r"не гонка", r"luận điệu", r"không phải (?:là )?(?:một )?cuộc đua", r"मिथक",
         r"lobbying", r"self-serving", r"talking points?", r"scare tactics?", r"over-?hyped", r"i don't buy"],
        ["سردية", "ليس سباقا", "프레임", "서사", "신화"],
    ),
    "ai": (
        [r"ии", r"искусственн\w* интеллект\w*", r"нейросет\w*", r"технолог\w*", r"чип\w*", r"модел\w*",
         r"एआई", r"कृत्रिम बुद्धिमत्ता", r"आर्टिफिशियल इंटेलिजेंस", r"तकनीक\w*", r"टेक्नोलॉजी", r"चिप\w*", r"मॉडल",
         r"trí tuệ nhân tạo", r"trí thông minh nhân tạo", r"công nghệ", r"mô hình"],
        ["الذكاء الاصطناعي", "ذكاء اصطناعي", "الرقائق", "التكنولوجيا", "تقني", "نموذج", "النماذج",
         "인공지능", "반도체", "기술", "모델", "칩"],
    ),
    # Historical metaphors of a contest between blocs: national by themselves, even without "race".
    "metaphor": (
        [r"cold war", r"sputnik", r"manhattan project", r"space race", r"iron curtain",
         r"guerra fr[ií]a", r"proyecto manhattan", r"projeto manhattan", r"carrera espacial", r"corrida espacial",
         r"guerre froide", r"projet manhattan", r"kalte[nr]? krieg\w*", r"manhattan-projekt\w*", r"koude oorlog",
         r"холодн\w* войн\w*", r"спутник\w* момент\w*", r"манхэттенск\w*", r"космическ\w* гонк\w*",
         r"शीत युद्ध", r"स्पुतनिक", r"मैनहट्टन", r"chiến tranh lạnh", r"dự án manhattan"],
        ["冷战", "冷戰", "冷戦", "斯普特尼克", "スプートニク", "曼哈顿计划", "マンハッタン計画", "太空竞赛",
         "الحرب الباردة", "حرب باردة", "سبوتنيك", "مشروع مانهاتن", "냉전", "스푸트니크", "맨해튼 프로젝트"],
    ),
    # The two rivals named as a pair of powers rather than as countries.
    "two_powers": (
        [r"(?:the |both )?two (?:leading |great |biggest |largest |rival |competing )?(?:ai )?(?:super)?powers",
         r"both superpowers", r"two giants", r"dos superpotencias", r"deux superpuissances", r"zwei supermächte",
         r"beiden supermächte", r"duas superpotências", r"две сверхдержав\w*", r"двух сверхдержав",
         r"दो महाशक्ति\w*", r"hai cường quốc", r"hai siêu cường", r"g2"],
        ["两个超级大国", "两大国", "兩大國", "二大国", "القوتين", "القوتان", "두 초강대국", "양강"],
    ),
    "cap_us": (
        [r"washington", r"вашингтон\w*", r"वाशिंगटन"], ["华盛顿", "華盛頓", "ワシントン", "واشنطن", "워싱턴"],
    ),
    "cap_cn": (
        [r"beijing", r"peking", r"pek[ií]n", r"p[ée]kin", r"pequim", r"пекин\w*", r"बीजिंग", r"bắc kinh"],
        ["北京", "بكين", "베이징"],
    ),
    # A claim passed on in order to be dismissed: "X says ... but I think that's lobbying".
    "report": (
        [r"says", r"said", r"claims?", r"claimed", r"argues?", r"warns?", r"insists?", r"according to",
         r"would have you believe", r"keeps? saying", r"people say", r"they say"],
        [],
    ),
    "dismiss": (
        [r"lobbying", r"hype", r"nonsense", r"bullshit", r"bs", r"marketing", r"grift\w*", r"propaganda",
         r"fear-?monger\w*", r"self-serving", r"exaggerat\w*", r"i don't buy", r"not buying it", r"overblown",
         r"talking points?", r"cope", r"spin"],
        ["炒作", "宣传"],
    ),
}
# fmt: on

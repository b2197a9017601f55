"""The vocabulary of the US-vs-China AI frame, by cue family and language. Data only; bot/framing/cues.py compiles it.

Latin entries are regex fragments over lower-cased text, matched as whole words; a
trailing `\\w*` admits inflections and compounds, and a leading `~` lets the entry end a compound (German
"KI-Wettlauf", "Technologiewettlauf"). CJK entries are literal strings. Families:
  us_noun / cn_noun      the countries or their capitals, as nouns ("America", "Beijing", 美国, 中国)
  us_adj / cn_adj        the adjectives ("American", "Chinese"): weaker, they often just describe a product
  pair                   one word naming both sides (中美, 米中)
  cn_lab                 Chinese labs and models (DeepSeek, Qwen...): a China cue for recall, weak for precision
  bloc                   other blocs and the vocabulary of geopolitics (nations, superpower, Europe, 大国)
  contest                nouns of a contest (race, cold war, supremacy, 竞赛, 覇権, Wettlauf)
  scoreboard             verbs and adverbs that rank two sides (win, overtake, ahead of, 领先, 追い抜く)
  contest_weak           softer rivalry words (compete, rival, threat, "write the rules of the future")
  phrase                 explicit frames that need no named country (Sputnik moment, AI supremacy,
                         "whoever controls AI rules the world", AIを制する国)
  counter                markers of a text that quotes the frame to reject it (narrative, "isn't about",
                         "the real battle is", open vs closed, flag-waving)
  tech / cyber           technical or security context, where contest words mean something else
  company                US companies and products: a contest among them is not a national one
  ai                     any AI context
The other languages and the families the fitted engine added live in cue_tables_world.py.
"""

from __future__ import annotations

from bot.framing.cue_tables_world import MORE

Table = tuple[list[str], list[str]]

# The tables read better as dense lines than one entry per line.
# fmt: off
US_NOUN: Table = (
    [
        r"america", r"the united states", r"united states", r"u\.s\.(?:a\.)?", r"washington", r"the west(?! coast)",
        r"white house", r"trump", r"biden", r"pentagon", r"uncle sam", r"estados unidos", r"ee\.\s?uu\.?", r"eua",
        r"occidente", r"ocidente", r"norteam[ée]rica", r"[ée]tats[- ]unis", r"am[ée]rique", r"l'occident",
        r"vereinigten? staaten", r"amerika", r"de[nmrs]? westen[s]?", r"verenigde staten", r"het westen",
        r"the americans", r"los estadounidenses", r"les am[ée]ricains", r"die amerikaner", r"os americanos",
    ],
    [
        "美国", "美國", "美方", "华盛顿", "華盛頓", "白宫", "白宮", "米国", "米政府", "アメリカ",
        "ワシントン", "西側", "西方国家", "西方", "欧米", "米欧", "対米", "美帝",
    ],
)
US_ADJ = (
    [
        r"americans?", r"western(?:ers?)?", r"estadounidenses?", r"norte-?american[oa]s?", r"american[oa]s?",
        r"occidentales?", r"ocidenta(?:l|is)", r"am[ée]ricain(?:e|s|es)?", r"occidenta(?:le?s?|ux)",
        r"amerikanisch\w*", r"amerikaner\w*", r"westlich\w*", r"amerikaans\w*", r"westerse?",
    ],
    ["美系", "米系", "米企業", "美企", "米国製", "美国的"],
)
CN_NOUN = (
    [
        r"china", r"beijing", r"peking", r"xi jinping", r"chinese communist party", r"communist party", r"pek[ií]n",
        r"pequim", r"chine", r"p[ée]kin", r"sino-\w+", r"middle kingdom", r"mainland", r"the chinese", r"los chinos",
        r"les chinois", r"die chinesen", r"os chineses",
    ],
    ["中国", "中國", "中方", "中共", "北京", "我国", "我國", "中华", "中華", "国产", "國產"],
)
CN_ADJ = (
    [
        r"chinese", r"chin(?:o|os|as)", r"chin[eê]s(?:es)?", r"chinesas?", r"chinois(?:e|es)?", r"chinesisch\w*",
        r"chinesen", r"chinees", r"chinezen",
    ],
    ["中系", "中国製", "中国的", "国产的"],
)
PAIR: Table = ([], ["中美", "美中", "米中", "美中两国", "中美两国"])
CN_LAB = (
    [
        r"deepseek\w*", r"qwen\w*", r"kimi", r"moonshot(?: ai)?", r"glm(?:-?\d[a-z0-9.]*)?", r"zhipu", r"baidu",
        r"ernie", r"alibaba\w*", r"huawei", r"tencent", r"hunyuan", r"bytedance", r"doubao", r"minimax", r"hailuo",
        r"kling", r"baichuan", r"stepfun", r"iflytek", r"sensetime", r"01\.ai", r"smic", r"tiktok",
    ],
    [
        "深度求索", "通义", "通義", "千问", "千問", "文心", "阿里", "百度", "华为", "華為", "腾讯", "騰訊",
        "字节跳动", "智谱", "月之暗面", "豆包", "ディープシーク", "アリババ", "ファーウェイ", "テンセント",
        "バイドゥ",
    ],
)
BLOC = (
    [
        r"nations?", r"countr(?:y|ies)", r"geopoliti\w*", r"superpowers?", r"great[- ]powers?", r"national security",
        r"world order", r"bipolar\w*", r"europe", r"european union", r"naci[oó]n(?:es)?", r"pa[ií]s(?:es)?",
        r"na[cç](?:[aã]o|[oõ]es)", r"g[ée]opoliti\w*", r"superpot\w*", r"superpuissances?", r"puissances?",
        r"supermacht\w*", r"gro(?:ss?|ß)m[aä]cht\w*", r"weltmacht\w*", r"grootmacht\w*", r"geopolitiek\w*",
        r"europa", r"l'europe", r"l[aä]nder\w*", r"landen",
    ],
    [
        "国家", "國家", "大国", "大國", "强国", "強國", "地缘", "地緣", "两国", "兩國", "欧洲", "歐洲", "地政学",
        "超大国", "両国", "欧州", "する国", "覇権国", "各国", "各國",
    ],
)
CONTEST = (
    [
        r"arms races?", r"race(?<!human race)s?(?! conditions?)", r"racing", r"cold war",
        r"war(?<!price war)(?<!star war)(?<!trade war)(?<!tariff war)(?<!flame war)s?", r"warfare",
        r"battle(?!-tested)\w*", r"battlefields?", r"battlegrounds?", r"rivalr(?:y|ies)", r"supremacy",
        r"hegemon\w*", r"dominance", r"showdown", r"contest", r"duel", r"sputnik", r"manhattan project",
        r"two-horse", r"neck and neck", r"head-to-head", r"superiority", r"tech war", r"chip wars?", r"carreras?",
        r"guerras?", r"guerra fr[ií]a", r"batallas?", r"rivalidad(?:es)?", r"supremac[ií]a", r"hegemon[ií]a",
        r"dom[ií]nio", r"duelo", r"pulso", r"enfrentamiento", r"contienda", r"pugna", r"corridas?", r"batalhas?",
        r"rivalidades?", r"disputas?", r"embate", r"confronto", r"la course", r"une course", r"cette course",
        r"course (?:à|aux|a l|technolog\w*|mondiale|effr\w*)", r"guerres?", r"guerre froide", r"batailles?",
        r"champ de bataille", r"rivalit[ée]s?", r"supr[ée]matie", r"h[ée]g[ée]monie", r"domination", r"affrontement",
        r"bras de fer", r"~wettlauf\w*", r"~wettrennen", r"~wettr[üu]sten\w*", r"rennen", r"~krieg(?!en)\w*",
        r"~schlacht\w*", r"rivalit[äa]t\w*", r"~vorherrschaft", r"dominanz", r"hegemonie", r"duell",
        r"machtkampf\w*", r"kr[äa]ftemessen", r"systemwettbewerb", r"wedloop", r"wapenwedloop", r"~oorlog\w*",
        r"strijd\w*", r"rivaliteit", r"suprematie", r"dominantie",
    ],
    [
        "竞赛", "競賽", "赛跑", "賽跑", "军备竞赛", "霸权", "霸權", "霸主", "争霸", "爭霸", "博弈", "战争", "戰爭",
        "冷战", "冷戰", "较量", "較量", "对抗", "對抗", "角逐", "对决", "對決", "战场", "戰場", "争夺", "爭奪",
        "科技战", "科技戰", "芯片战", "晶片戰", "主导权", "主導權", "制高点", "制高點", "两强", "兩強", "斯普特尼克",
        "竞争", "競爭", "覇権", "戦争", "冷戦", "軍拡", "争奪", "争い", "対立", "対決", "戦場", "主導権", "覇者",
        "スプートニク", "競争", "競走", "レース", "太空竞赛", "宇宙開発競争",
    ],
)
SCOREBOARD = (
    [
        r"win", r"wins", r"winning", r"winners?", r"won", r"lose", r"loses", r"losing", r"losers?", r"lost", r"beat",
        r"beats", r"beating", r"beaten", r"defeat\w*", r"overtak\w*", r"overtook", r"surpass\w*", r"outpac\w*",
        r"outcompet\w*", r"outinnovat\w*", r"out-\w+", r"outrun\w*", r"outspend\w*", r"leapfrog\w*", r"lead",
        r"leads(?! to)", r"leading", r"leader(?:ship)?", r"ahead", r"behind", r"lag\w*", r"trail\w*",
        r"catch(?:es|ing)? up", r"caught up", r"clos(?:e|es|ing) the (?:ai )?gap", r"gap", r"edge(?! cases?)",
        r"upper hand", r"dominat\w*", r"dominant", r"take over", r"taking over", r"fall(?:s|ing)? behind",
        r"fell behind", r"keep(?:s|ing)? up", r"front-?runner", r"never will", r"far ahead",
        r"lapp(?:ed|ing)", r"outclass\w*", r"dethron\w*", r"eclips\w*", r"outstrip\w*", r"pull(?:s|ed|ing)? ahead",
        r"in the lead", r"left (?:us|them|america|china|the west|everyone) in the dust",
        r"eat(?:s|ing)? (?:our|their|its|america's|china's|the west's) lunch", r"ate (?:our|their|its) lunch",
        r"gan(?:a|an|ar|ará|ó|ando|ado|ador)", r"pierde\w*", r"perd\w*", r"superad[oa]s?", r"supera(?:r|n|rá|do)?",
        r"super(?:ó|ou)", r"adelant\w*", r"ventaja", r"lider\w*", r"alcanz\w*", r"rezag\w*", r"domin\w*",
        r"derrot\w*", r"detr[aá]s", r"venc\w*", r"ganh\w*", r"ultrapass\w*", r"vantagem", r"atr[aá]s",
        r"alcan[cç]\w*", r"[àa] frente", r"gagn\w*", r"d[ée]pass\w*", r"rattrap\w*", r"retard", r"avance",
        r"en t[eê]te", r"devan\w*", r"derri[eè]re", r"l'emport\w*", r"gewinn(?:t|en)", r"gewonnen", r"verlier\w*",
        r"verloren", r"[üu]berhol\w*", r"einhol\w*", r"aufhol\w*", r"vorsprung", r"r[üu]ckstand",
        r"f[üu]hr(?:t|en|end\w*|ung)", r"dominier\w*", r"abgeh[äa]ngt", r"winn(?!ie)\w*", r"verlie\w*", r"inhal\w*",
        r"voorsprong", r"achterstand", r"kloof", r"leid(?:t|en|end\w*)",
    ],
    [
        "领先", "領先", "超越", "超过", "超過", "赶超", "趕超", "反超", "落后", "落後", "追赶", "追趕", "追上", "赢",
        "贏", "输", "輸", "胜出", "勝出", "获胜", "獲勝", "主导", "主導", "称霸", "稱霸", "差距", "优势", "優勢",
        "击败", "擊敗", "打败", "打敗", "追い抜", "追いつ", "追い付", "追い上げ", "逆転", "勝", "負け", "敗", "優位",
        "劣勢", "劣る", "リード", "先行", "巻き返", "制する", "出遅れ", "後れ", "遅れ", "抜かれ", "凌駕", "上回",
        "首位", "優勢",
    ],
)
CONTEST_WEAK = (
    [
        r"compet\w*", r"rivals?", r"fight\w*", r"threat\w*", r"first shot", r"scoreboard", r"zero-sum",
        *(rf"{w} the rules" for w in ("write", "writes", "writing", "set", "sets", "setting", "make", "makes",
                                      r"dictat\w*")),
        r"rules of the (?:future|game|road)",
        r"wake-up call", r"asleep at the wheel",
        *(rf"{w} (?:the|our|this) (?:21st |twenty-first |next |coming )?(?:future|world|century|decade)" for w in (
            "control", "controls", "controlling", "own", "owns", "rule", "rules", "shape", "shapes", "define",
            "defines", "dominate", "dominates")),
        r"take over the world", r"control of the future", r"competencia", r"concurr\w*", r"concurren\w*",
        r"comp[ée]ti\w*", r"wettbewerb\w*", r"konkurr\w*", r"konkurrent\w*", r"rivale[n]?", r"lucha", r"luta",
        r"lutte", r"kampf\w*",
    ],
    [
        "对手", "對手", "威胁", "威脅", "遏制", "围堵", "圍堵", "脱钩", "脫鉤", "主角", "竞合", "競合", "争う",
        "競う", "ライバル", "脅威", "卡脖子",
    ],
)
# First person plural, for "help us beat China" / "if we don't lead, China will": the writer's own side.
WE: Table = ([r"we", r"us", r"our", r"ourselves", r"nosotros", r"nous", r"wir", r"uns", r"n[óo]s", r"wij", r"ons"], [])
# Words that put two sides face to face: "race WITH China", "Wettlauf GEGEN China", "US VS China".
CONNECTOR = (
    [
        r"with", r"against", r"vs\.?", r"versus", r"v\.", r"contra", r"gegen", r"contre", r"face [àa]", r"frente a",
        r"tegen", r"met", r"mit", r"com", r"con", r"avec", r"sobre", r"sur", r"over",
    ],
    ["与", "與", "对", "對", "対", "跟", "同", "vs"],
)
# Ways to say "AI", used to build the explicit phrases below. Every phrase starts with a literal word, which keeps
# the compiled trie fast.
_AI_WORDS = [
    r"ai", r"a\.i\.", r"agi", r"artificial intelligence", r"ia", r"ki", r"k[üu]nstliche[rn]? intelligenz",
    r"intelig[eê]ncia artificial", r"inteligencia artificial", r"intelligence artificielle", r"l'ia",
    r"kunstmatige intelligentie",
]
_AI = "(?:" + "|".join(_AI_WORDS) + ")"
_TOP = r"(?:arms race|supremacy|hegemony|dominance|superiority|superpower|cold war)"
# Phrases that are national by themselves: the nation that controls AI, a new cold war, a Sputnik moment.
NATION_PHRASE = (
    [
        r"sputnik", r"cold war (?:2|ii|two)", r"nieuwe koude oorlog", r"nueva guerra fr[ií]a",
        r"nouvelle guerre froide", r"nova guerra fria", r"guerra fr[ií]a tecnol\w*", r"guerre froide technolog\w*",
        r"guerra fria tecnol\w*",
        *(rf"{w} cold war" for w in ("new", "second", "ai", r"a\.i\.", r"tech\w*", "digital", "silicon")),
        *(
            rf"{w} (?:that|which|who) (?:controls|leads|dominates|wins|masters|owns|builds)[^.!?]{{0,30}}{_AI}"
            for w in ("nation", "country")
        ),
        *(
            rf"{w} (?:qui|que) (?:domine|dominera|contr[ôo]le|ma[îi]trise|domina|dominar|controla|lidera)[^.!?]{{0,30}}"
            rf"{_AI}"
            for w in ("pays", r"pa[ií]s", r"naci[oó]n", r"na[cç][aã]o", "nation")
        ),
        rf"(?:land|nation), (?:das|die) {_AI}[^.!?]{{0,30}}(?:beherrscht|kontrolliert|dominiert|anf[üu]hrt)",
    ],
    [
        "aiを制する国", "ai を制する国", "人工知能を制する国", "得ai者得天下", "得人工智能者得天下", "新冷战",
        "新冷戰", "科技冷战", "科技冷戰", "新冷戦", "技術冷戦", "大国博弈", "大國博弈", "スプートニク", "斯普特尼克",
        "史普尼克", "卫星时刻", "ai超级大国", "ai超大国", "人工智能强国", "ai强国", "ai强國",
    ],
)
PHRASE = (
    [
        r"sputnik", r"cold war (?:2|ii|two)", r"carrera armamentista", r"course aux armements",
        r"corrida armamentista", r"wettr[üu]sten\w*", r"nueva guerra fr[ií]a", r"guerra fr[ií]a tecnol\w*",
        r"nouvelle guerre froide", r"guerre froide technolog\w*", r"nova guerra fria", r"guerra fria tecnol\w*",
        r"nieuwe koude oorlog", r"ki-vorherrschaft", r"kalte[nr]? krieg\w*",
        *(rf"{w} cold war" for w in ("new", "second", "ai", r"a\.i\.", r"tech\w*", "digital", "silicon")),
        *(rf"{w}[- ]{_TOP}" for w in _AI_WORDS),
        *(rf"{w} (?:in|over) {_AI}" for w in ("supremacy", "hegemony", "dominance", "superiority")),
        rf"whoever (?:controls|wins|leads|dominates|masters|commands|owns|rules|builds|gets)[^.!?]{{0,40}}{_AI}",
        *(
            rf"{w} (?:that|which|who) (?:controls|leads|dominates|wins|masters|owns|builds)[^.!?]{{0,30}}{_AI}"
            for w in ("nation", "country")
        ),
        rf"arms race (?:in|over|for|on) {_AI}", rf"supremac[ií]a (?:en|de|da|na|em) (?:la )?{_AI}",
        rf"hegemon[ií]a (?:en|de|da|na|em) (?:la )?{_AI}",
        r"supr[ée]matie (?:en mati[eè]re d'|dans l'|de l'|en )(?:ia|intelligence)",
        rf"vorherrschaft (?:bei|in|im bereich) (?:der )?{_AI}",
        rf"quien (?:domine|controle|gane|lidere)[^.!?]{{0,30}}{_AI}",
        rf"qui (?:domine|dominera|contr[ôo]le|contr[ôo]lera|gagne|gagnera|ma[îi]trise|ma[îi]trisera)"
        rf"[^.!?]{{0,30}}{_AI}",
        rf"wer (?:die )?{_AI}[^.!?]{{0,30}}(?:beherrscht|kontrolliert|gewinnt|dominiert|anf[üu]hrt)",
        rf"quem (?:dominar|controlar|vencer|liderar)[^.!?]{{0,30}}{_AI}",
        rf"wie (?:de )?{_AI} (?:beheerst|domineert|controleert|wint)",
    ],
    [
        "ai霸权", "ai霸權", "人工智能霸权", "技术霸权", "技術霸權", "科技霸权", "科技霸權", "ai覇権", "技術覇権",
        "ai覇者", "aiを制する", "ai を制する", "人工知能を制する", "得ai者得天下", "得人工智能者得天下",
        "ai超级大国", "ai超大国", "新冷战", "新冷戰", "科技冷战", "科技冷戰", "新冷戦", "技術冷戦", "大国博弈",
        "大國博弈", "军备竞赛", "軍備競賽", "軍拡競争", "スプートニク", "斯普特尼克", "史普尼克", "卫星时刻",
    ],
)
_NEG = ("isn't", "isnt", "is not", "aren't", "arent", "are not", "wasn't", "was not", "not", "never")
_QUAL = r"(?:really |just |simply |actually |merely |only )?"
COUNTER = (
    [
        r"narratives?", r"myths?", r"mythical", r"framing", r"flag[- ]waving", r"nationalis\w*", r"jingois\w*",
        r"xenophob\w*", r"(?:framed|frames?|portrayed|painted|cast|presented|spun|sold|depicted) as",
        *(
            rf"{w} {_QUAL}(?:a |an |the )?(?:race|war|contest|zero-sum|arms race|cold war|two-horse|geopolitic\w*)"
            for w in _NEG
        ),
        *(
            rf"{w} {_QUAL}about (?:the )?(?:us|u\.s\.|america|china|west\w*|nations?|countries|geopolitic\w*|"
            r"who wins)"
            for w in _NEG
        ),
        r"the (?:real|actual|true) (?:ai )?(?:battle|race|story|fight|axis|divide|competition|contest|question|"
        r"issue|split|war|rivalry|dividing line)",
        r"open(?:[- ]source|[- ]weights?)? (?:vs\.?|versus|v\.?|against|or) closed",
        r"nothing (?:inherently|uniquely)", r"so-called", r"overblown", r"false (?:dichotomy|binary|choice)",
        r"red herring", r"distraction", r"scaremonger\w*", r"fearmonger\w*", r"moral panic",
        r"rather than (?:a |an )?(?:race|contest|nation)", r"narrativas?", r"mitos?", r"relatos?",
        r"no es una (?:carrera|guerra|competencia)", r"la verdadera (?:batalla|carrera|competencia|guerra)",
        r"n[aã]o [ée] uma (?:corrida|guerra|competi)", r"a verdadeira (?:batalha|corrida|disputa|guerra)",
        r"r[ée]cits?", r"narratifs?", r"mythes?", r"n'est pas une (?:course|guerre|comp[ée]tition)",
        r"ne rel[eè]ve pas", r"la vraie (?:bataille|course|comp[ée]tition|guerre)", r"narrativ\w*",
        r"erz[äa]hlung\w*", r"mythos", r"dargestellt", r"nullsummen\w*",
        r"kein(?:en)? (?:wettlauf|wettr[üu]sten|krieg|rennen)", r"der eigentliche (?:wettlauf|kampf|wettbewerb)",
        r"narratief", r"geen (?:race|wedloop|oorlog)", r"stop (?:calling|framing|treating|pretending)",
        r"(?:calling|call|calls) (?:it|this) (?:a|an) (?:race|war)",
        r"there (?:is|'s) no (?:ai )?(?:race|war|arms race|finish line)",
        r"no such thing as (?:a|an) (?:race|winner)",
        r"(?:misleading|wrong|lazy|dangerous|simplistic|tired|unhelpful|flawed|false|bad) (?:framing|frame|narrative"
        r"|metaphor|analogy|dichotomy)", r"zero-sum thinking", r"not (?:a )?zero-sum",
        r"propaganda(?: talking)? point", r"mind-?set", r"mentality", r"treat(?:s|ing)? (?:ai|it|this) as",
    ],
    [
        "叙事", "敘事", "论调", "論調", "所谓", "所謂", "神话", "神話", "并非一场", "並非一場", "不是一场",
        "并非中美", "不是中美", "民族主义", "民族主義", "炒作", "真正的竞争", "真正的较量", "ナラティブ", "言説",
        "ナショナリズム", "本当の競争",
    ],
)
# Working together is the opposite of a contest: joint labs, shared papers, talent moving both ways.
COOPERATION = (
    [
        r"cooperat\w*", r"collaborat\w*", r"co-?author\w*", r"partnership\w*", r"jointly", r"together",
        r"cooperaci[oó]n", r"colabora\w*", r"coop[ée]ration", r"zusammenarbeit\w*", r"kooperation\w*",
        r"samenwerking\w*",
    ],
    ["合作", "協力", "共同研究", "协作", "協作"],
)
TECH = (
    [
        r"traceback", r"errors?", r"exception", r"stack ?trace", r"gguf", r"vram", r"cuda", r"rocm", r"docker\w*",
        r"quantiz\w*", r"tok/s", r"tokens? per second", r"q[2-8]_k\w*", r"ollama", r"llama\.cpp", r"vllm",
        r"pip install", r"config(?:s|ured?|uration)?", r"json", r"yaml", r"api key", r"endpoint", r"drivers?",
        r"kernel", r"benchmarks?", r"swe-bench", r"mmlu", r"context window", r"fine-?tun\w*", r"inference", r"lora",
        r"ggml", r"github", r"pull request", r"compil\w*", r"install\w*", r"template\w*", r"parameters?", r"vs code",
        r"prompt\w*", r"tool (?:use|calls?|calling)", r"license", r"weights",
    ],
    ["报错", "報錯", "显存", "顯存", "量化", "部署", "エラー", "量子化"],
)
CYBER = (
    [
        r"cyber\w*", r"attackers?", r"defenders?", r"threat actors?", r"malware", r"phishing", r"ransomware",
        r"hackers?", r"ciso", r"red team\w*", r"blue team\w*", r"security operations", r"artists?", r"glaze",
        r"nightshade",
    ],
    ["网络安全", "網路安全", "黑客", "サイバー"],
)
COMPANY: Table = (
    [
        r"openai", r"google", r"anthropic", r"meta", r"microsoft", r"nvidia", r"amd", r"intel", r"apple", r"amazon",
        r"xai", r"mistral", r"perplexity", r"chatgpt", r"claude", r"gemini", r"llama", r"copilot", r"cursor",
        r"silicon valley", r"big tech",
    ],
    ["硅谷", "矽谷", "シリコンバレー"],
)
AI = (
    [
        r"ai", r"a\.i\.", r"agi", r"artificial intelligence", r"llms?", r"machine learning", r"models?",
        r"chatbots?", r"chips?", r"semiconductor\w*", r"gpus?", r"compute", r"neural", r"deep learning",
        r"generative", r"genai", r"frontier", r"labs?", r"tech", r"technolog\w*", r"tecnolog\w*", r"technologie\w*",
        r"innovation", r"ia", r"ki", r"k[üu]nstliche[rn]? intelligenz", r"intelig[eê]ncia artificial",
        r"inteligencia artificial", r"intelligence artificielle", r"l'ia", r"kunstmatige intelligentie", r"modelos?",
        r"mod[èe]les?", r"modelle?", r"modellen", r"deepseek\w*", r"qwen\w*", r"kimi",
    ],
    [
        "人工智能", "大模型", "模型", "人工知能", "生成ai", "芯片", "晶片", "半導体", "半导体", "算力", "科技",
        "技术", "技術", "テクノロジー",
    ],
)

_FIRST: dict[str, Table] = {
    "us_noun": US_NOUN,
    "us_adj": US_ADJ,
    "cn_noun": CN_NOUN,
    "cn_adj": CN_ADJ,
    "pair": PAIR,
    "cn_lab": CN_LAB,
    "bloc": BLOC,
    "contest": CONTEST,
    "scoreboard": SCOREBOARD,
    "contest_weak": CONTEST_WEAK,
    "phrase": PHRASE,
    "nation_phrase": NATION_PHRASE,
    "connector": CONNECTOR,
    "we": WE,
    "counter": COUNTER,
    "cooperation": COOPERATION,
    "tech": TECH,
    "cyber": CYBER,
    "company": COMPANY,
    "ai": AI,
}
# fmt: on

# Both files, family by family: the first languages here, the others and the fitted engine's families in MORE.
TABLES: dict[str, Table] = {
    name: (_FIRST.get(name, ([], []))[0] + MORE.get(name, ([], []))[0],
           _FIRST.get(name, ([], []))[1] + MORE.get(name, ([], []))[1])
    for name in dict.fromkeys([*_FIRST, *MORE])
}  # fmt: skip

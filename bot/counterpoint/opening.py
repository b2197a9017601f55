"""The only words of a counterpoint a model may choose: one short opening sentence, checked before it is shown.

A model that obeys the post it answers would write whatever the post asked for. So the counterpoint's body comes
from the library's vetted paragraphs (bot/counterpoint/composer.py), and the model writes at most one sentence
that acknowledges the post. That sentence is refused (the composer then falls back to the cited template) when:

- it copies the post: a run of words (or, in scripts without spaces, of characters) long enough to carry a message;
- it carries what the post asked the bot to say, links, pings or numbers (figures come from the library only);
- it talks about people, moderators, the bot or its instructions: names not in the library or the post's topic
  vocabulary, and the words a megaphone needs ("moderators", "admins", "this bot", "click", "DM me", ...).
An honest acknowledgement ("It makes sense to watch who leads in AI closely.") passes all of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.counterpoint.verify import bad_tone, injected_payloads, leaks_prompt, obeys_injection
from bot.text import programs
from bot.text.clean import fold, has_link, has_live_mention, strip_think
from bot.text.limits import count_words
from bot.text.normalize import CJK_CLASS, normalize, tokenize

MAX_WORDS = 30
WORD_RUN = 5  # this many consecutive words shared with the post is copying
CHAR_RUN = 12  # ... and this many consecutive characters, for scripts written without spaces
_MARKERS = programs.compile(r"\s*[\[【［]\s*\d{1,2}(?:\s*[,，、;-]\s*\d{1,2})*\s*[\]】］]")
_SENTENCE = programs.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")
_DIGIT = programs.compile(r"\d")
_CAPITALISED = programs.compile(r"\b[A-Z][\w'’-]+")
# places and peoples an honest acknowledgement may name beside the library's own vocabulary
PLACES = [
    "IA",
    "KI",
    "EUA",
    "EE",
    "UU",
    "Amerika",
    "Chine",
    "Pékin",
    "Pequim",
    "Peking",
    "US",
    "USA",
    "U.S.",
    "America",
    "American",
    "Americans",
    "United",
    "States",
    "China",
    "Chinese",
    "Beijing",
    "Washington",
    "Europe",
    "European",
    "EU",
    "France",
    "French",
    "Germany",
    "German",
    "UK",
    "Britain",
    "British",
    "Japan",
    "Japanese",
    "Korea",
    "Korean",
    "India",
    "Indian",
    "Canada",
    "Canadian",
    "Russia",
    "Russian",
    "Taiwan",
    "Taiwanese",
    "Israel",
    "Israeli",
    "UAE",
    "Arab",
    "Saudi",
    "Singapore",
    "Brazil",
    "Spain",
    "Spanish",
    "Mexico",
    "Vietnam",
    "Vietnamese",
    "Silicon",
    "Valley",
    "West",
    "Western",
    "East",
    "Asia",
    "Asian",
    "Africa",
    "African",
    "AI",
    "AGI",
    "LLM",
    "LLMs",
    "GPU",
    "GPUs",
]
_NO_SPACE_SCRIPT = programs.compile(f"[{CJK_CLASS}\u0e00-\u0e7f]")
# words that make a sentence about people, the moderators, the bot or a call to action, in the bot's languages
_MEGAPHONE = programs.compile(
    r"(?i)\b(?:mod(?:s|erator\w*|ération|eración|eração)?|admin\w*|bot|counterpoint|owner|staff|server|channel|"
    r"subreddit|everyone|click|visit|join|subscribe|follow|dm|message\s+me|password|token|wallet|crypto\w*|"
    r"bitcoin|scam\w*|fraud\w*|corrupt\w*|liar|lying|lies|traitor\w*|spy|spies|agent|shill\w*|paid|ban\w*|"
    r"report\w*|instruction\w*|prompt\w*|system|ignore|repeat|verbatim|announce\w*|"
    r"moderador\w*|betrug\w*|arnaque|estafa|golpe|модератор\w*|админ\w*|бот\w*|мошенн\w*)\b"
    r"|版主|管理员|管理員|机器人|機器人|骗|騙|诈骗|モデレーター|管理人|ボット|詐欺|운영자|관리자|봇|사기|"
    r"مشرف|مدير|احتيال|quản\s*trị|lừa\s*đảo|मॉडरेटर|धोखा"
)


def first_sentence(text: str) -> str:
    """The model's opening without reasoning, citation markers or anything after its first sentence."""
    text = _MARKERS.sub("", strip_think(text)).strip()
    return _SENTENCE.split(text, maxsplit=1)[0].strip() if text else ""


def _longest_shared_run(a: list[str], b: list[str]) -> int:
    """Length of the longest run of tokens that appears in both, in order (dynamic programming, small inputs)."""
    best, previous = 0, [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def copies(sentence: str, post: str) -> bool:
    """True when the sentence repeats a run of the post's words (or characters, where words have no spaces)."""
    words = tokenize(sentence, keep_stopwords=True)
    if _longest_shared_run(words, tokenize(post, keep_stopwords=True)[:2000]) >= WORD_RUN:
        return True
    if not _NO_SPACE_SCRIPT.search(sentence):
        return False
    flat_sentence = "".join(normalize(fold(sentence)).split())
    flat_post = "".join(normalize(fold(post)).split())
    return any(flat_sentence[i : i + CHAR_RUN] in flat_post for i in range(len(flat_sentence) - CHAR_RUN + 1))


def carries_payload(sentence: str, post: str) -> bool:
    """What the post asked for, even as a short quote ("say 'X'") or partly reworded."""
    said = set(tokenize(sentence))
    for payload in injected_payloads(post):
        wanted = set(tokenize(payload))
        if wanted and len(wanted & said) / len(wanted) >= 0.6:
            return True
    return obeys_injection(post, sentence)


def strangers(sentence: str, post: str, known: Iterable[str]) -> list[str]:
    """Capitalised words (Latin script) that the post supplied and the library does not know: names the post may
    want repeated ("tell everyone that John Smith ..."). Words the post does not contain are left alone, so German
    nouns and a model's own phrasing pass."""
    vocabulary = {normalize(k) for k in (*known, *PLACES)}
    in_post = set(tokenize(post, keep_stopwords=True))
    words = _CAPITALISED.findall(sentence)
    if words and sentence.lstrip("\"'“‘¿¡(").startswith(words[0]):
        words = words[1:]  # a sentence starts with a capital
    return [w for w in words if normalize(w).strip("'’") not in vocabulary and set(tokenize(w)) & in_post]


def opening_problem(sentence: str, post: str, *, system_prompt: str, known_names: Iterable[str]) -> str:
    """Why the sentence must not be shown, or "" when it may open the counterpoint."""
    checks = (
        (not sentence, "the model wrote no opening sentence"),
        (count_words(sentence) > MAX_WORDS, "the opening is longer than one short sentence"),
        (has_link(sentence) or has_live_mention(sentence), "the opening carries a link or a mention"),
        (bool(_DIGIT.search(fold(sentence))), "the opening states a number (figures come from the library only)"),
        (carries_payload(sentence, post), "the opening says what the post asked the bot to say"),
        (copies(sentence, post), "the opening copies the post"),
        (bool(_MEGAPHONE.search(fold(sentence))), "the opening talks about people, moderators or the bot"),
        (bool(strangers(sentence, post, known_names)), "the opening names someone outside the library"),
        (leaks_prompt(sentence, system_prompt), "the opening reveals or discusses the prompt"),
        (bad_tone(sentence), "the opening uses a dismissive word"),
    )
    return next((why for failed, why in checks if failed), "")

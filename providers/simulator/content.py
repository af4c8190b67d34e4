"""Believable, deterministic content: titles, prompts, lyrics, tags, file names.

Every function takes the job's own `random.Random`, so the same key and job index always
give the same words.
"""

import random

_ADJECTIVES = (
    "Neon", "Midnight", "Golden", "Electric", "Silent", "Velvet", "Broken", "Crimson", "Paper", "Endless",
    "Lonely", "Wild", "Frozen", "Hidden", "Little", "Burning", "Distant", "Quiet", "Restless", "Sunlit",
)  # fmt: skip
_NOUNS = (
    "Harbor", "Highway", "Garden", "Signals", "Rain", "Horizon", "Echoes", "Lanterns", "Tides", "Satellites",
    "Streets", "Orchard", "Machines", "River", "Summer", "Mirrors", "Skyline", "Embers", "Winter", "Hearts",
)  # fmt: skip
_GENRES = (
    "synthwave", "lo-fi hip hop", "indie folk", "drum and bass", "jazz", "ambient", "k-pop", "trap",
    "classical piano", "afrobeat", "reggaeton", "post-rock", "city pop", "house", "bossa nova", "metal",
)  # fmt: skip
_MOODS = ("melancholic", "uplifting", "dreamy", "energetic", "dark", "playful", "nostalgic", "calm", "epic")
_TOPICS = (
    "a late train home", "first love", "leaving a small town", "a rainy Sunday", "summer at the coast",
    "an old photograph", "driving at night", "a friend who moved away", "the last day of school",
)  # fmt: skip
_INSTRUMENTS = ("warm analog synths", "fingerpicked guitar", "808 bass", "string quartet", "brass section", "Rhodes")
_VOCALS = ("female vocals", "male vocals", "choir", "whispered vocals", "duet")
_LYRIC_LINES = (
    "City lights are fading slow", "I kept your letters in the rain", "We were younger than the night",
    "Hold on, the morning's coming", "Every road leads back to you", "Counting stars on the ceiling",
    "Turn the radio up loud", "Nothing stays the way it was", "Dancing in an empty room",
    "Your voice is still an echo here", "Take the long way home tonight", "We'll be gold before the dawn",
)  # fmt: skip
_IMAGE_STYLES = (
    "watercolor painting", "35mm photograph", "isometric 3D render", "studio product shot",
    "oil painting", "pixel art", "cinematic still", "ink sketch", "claymation scene",
)  # fmt: skip
_SUBJECTS = (
    "a red fox in the snow", "a lighthouse at dusk", "a cozy reading nook", "a robot watering plants",
    "a bowl of ramen", "a mountain cabin", "an astronaut on a skateboard", "a koi pond", "a vintage car",
)  # fmt: skip
_LIGHTING = ("golden hour", "soft morning light", "neon lighting", "overcast", "dramatic rim light", "candlelight")
_FILE_STEMS = (
    "podcast_ep", "interview_raw", "voice memo", "Zoom Meeting", "lecture", "street_recording",
    "مقابلة", "تسجيل_صوتي", "field-notes", "standup_call", "vlog_take",
)  # fmt: skip
_AUDIO_FORMATS = ("wav", "mp3", "m4a", "ogg", "flac")
_VIDEO_FORMATS = ("mp4", "mov", "webm")


def title(rng: random.Random) -> str:
    return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"


def genre(rng: random.Random) -> str:
    return rng.choice(_GENRES)


def tags(rng: random.Random, genre_name: str) -> str:
    return f"{genre_name}, {rng.choice(_MOODS)}, {rng.choice(_INSTRUMENTS).lower()}"


def music_prompt(rng: random.Random, genre_name: str, instrumental: bool) -> str:
    voice = "instrumental" if instrumental else f"with {rng.choice(_VOCALS)}"
    return f"A {rng.choice(_MOODS)} {genre_name} song about {rng.choice(_TOPICS)}, {voice}"


def lyrics(rng: random.Random) -> str:
    verse = rng.sample(_LYRIC_LINES, 4)
    chorus = rng.sample(_LYRIC_LINES, 2)
    return "[Verse]\n" + "\n".join(verse) + "\n\n[Chorus]\n" + "\n".join(chorus)


def lrc(text: str, duration: float) -> str:
    """Timed lyrics (LRC) spreading the sung lines over the track."""
    lines = [line for line in text.splitlines() if line and not line.startswith("[")]
    step = max(duration - 10, 10) / max(len(lines), 1)
    out = []
    for i, line in enumerate(lines):
        at = 8 + i * step
        out.append(f"[{int(at // 60):02d}:{at % 60:05.2f}]{line}")
    return "\n".join(out)


def image_prompt(rng: random.Random) -> str:
    return f"{rng.choice(_IMAGE_STYLES).capitalize()} of {rng.choice(_SUBJECTS)}, {rng.choice(_LIGHTING)}"


def file_name(rng: random.Random, video: bool) -> tuple[str, str]:
    """(file name as a person uploaded it, lower-cased extension)."""
    ext = rng.choice(_VIDEO_FORMATS if video else _AUDIO_FORMATS)
    stem = rng.choice(_FILE_STEMS)
    if stem.endswith("_ep"):
        stem += str(rng.randint(1, 140))
    elif rng.random() < 0.5:
        stem += f" ({rng.randint(1, 9)})" if rng.random() < 0.3 else f"_{rng.randint(2021, 2026)}"
    # People upload "Interview.WAV" too; the record's audio_format is still lower-case.
    shown = ext.upper() if rng.random() < 0.1 else ext
    return f"{stem}.{shown}", ext

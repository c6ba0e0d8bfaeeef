"""Realistic Indonesian people, organisations and words for the demo data. Pure: every value comes from
the ``random.Random`` it is given, so a seed gives the same dataset.

Names mix the country's naming traditions (a single Javanese name, a Batak marga, a Bugis title, a
Chinese-Indonesian family name); organisations are named the way ormas name themselves (a kind, a
cause or a community, a place). Contact details use the demo's own mail domain, never a real one.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

DEMO_MAIL_DOMAIN = "ormas-demo.or.id"
STAFF_MAIL_DOMAIN = "staf.ormas-demo.go.id"

MEN = (
    "Agus", "Ahmad", "Andi", "Arif", "Bambang", "Budi", "Dedi", "Dimas", "Eko", "Fajar", "Gusti", "Hadi",
    "Hasan", "Hendra", "Irfan", "Iwan", "Joko", "Made", "Muhammad", "Nyoman", "Rahmat", "Rizki", "Rudi",
    "Sigit", "Slamet", "Taufik", "Teguh", "Wahyu", "Yohanes", "Yudi", "Yusuf", "Ketut", "Daniel", "Fransiskus",
)  # fmt: skip
WOMEN = (
    "Ani", "Ayu", "Dewi", "Dian", "Eka", "Fitri", "Indah", "Kartika", "Lestari", "Maria", "Maya", "Nur",
    "Nurul", "Putri", "Ratna", "Rina", "Siti", "Sri", "Wulan", "Yanti", "Kadek", "Theresia", "Rahmawati",
)  # fmt: skip
FAMILY = (
    "Santoso", "Wijaya", "Saputra", "Hidayat", "Pratama", "Setiawan", "Nugroho", "Siregar", "Nasution",
    "Simanjuntak", "Harahap", "Lubis", "Sinaga", "Tambunan", "Rahman", "Gunawan", "Halim", "Tanjung",
    "Sembiring", "Ginting", "Purba", "Wibowo", "Purnomo", "Prasetyo", "Hartono", "Susilo", "Handayani",
    "Rahayu", "Wulandari", "Anggraini", "Kusuma", "Palimbong", "Rante", "Daeng Matutu", "Pattimura",
    "Syahputra", "Lim", "Tanoto", "Manurung", "Sitompul", "Effendi", "Syamsuddin", "Mahmud", "Kurniawan",
)  # fmt: skip

KINDS = (
    "Perkumpulan", "Yayasan", "Paguyuban", "Ikatan", "Forum", "Himpunan", "Persatuan", "Gerakan",
    "Komunitas", "Asosiasi", "Lembaga Swadaya Masyarakat", "Aliansi", "Serikat",
)  # fmt: skip
CAUSES = (
    "Pemuda Peduli Lingkungan", "Pemberdayaan Perempuan", "Pecinta Alam", "Seni dan Budaya Nusantara",
    "Pendidikan Anak Bangsa", "Kesehatan Masyarakat", "Nelayan Tradisional", "Petani Organik",
    "Pedagang Pasar", "Relawan Tanggap Bencana", "Sadar Hukum", "Pemerhati Anak", "Penyandang Disabilitas",
    "Ekonomi Kreatif", "Literasi Digital", "Pencak Silat", "Donor Darah Sukarela", "Pengemudi Ojek",
    "Guru Mengaji", "Kebersihan Pantai", "Pelestari Mangrove", "Usaha Mikro", "Lansia Sejahtera",
)  # fmt: skip
COMMUNITIES = (
    "Kerukunan Keluarga Sulawesi Selatan", "Ikatan Keluarga Besar Toraja", "Paguyuban Warga Jawa",
    "Persatuan Keluarga Banjar", "Ikatan Keluarga Minang", "Kerukunan Warga Flobamora", "Persatuan Batak",
    "Ikatan Keluarga Madura", "Kerukunan Keluarga Dayak", "Paguyuban Pasundan", "Ikatan Keluarga Bali",
)  # fmt: skip
FAITH = (
    "Majelis Taklim Nurul Huda", "Yayasan Masjid Al-Ikhlas", "Yayasan Pendidikan Islam Al-Falah",
    "Majelis Taklim Al-Hidayah", "Persekutuan Doa Oikumene", "Yayasan Vihara Dharma Bhakti",
    "Remaja Masjid Baitul Makmur", "Yayasan Panti Asuhan At-Taqwa", "Pemuda Katolik", "Pemuda Hindu Dharma",
)  # fmt: skip
FIELDS = (
    "Sosial kemasyarakatan", "Pendidikan", "Keagamaan", "Kepemudaan", "Lingkungan hidup", "Seni dan budaya",
    "Kesehatan", "Olahraga", "Pemberdayaan perempuan", "Ekonomi kerakyatan", "Adat dan kekerabatan",
)  # fmt: skip
STREETS = (
    "Jenderal Sudirman", "Ahmad Yani", "MT Haryono", "Soekarno-Hatta", "Mulawarman", "Pattimura",
    "Letjen Suprapto", "Marsma R. Iswahyudi", "Ruhui Rahayu", "Syarifuddin Yoes", "Mayjen Sutoyo",
    "Imam Bonjol", "Diponegoro", "Kartini", "Hasanuddin", "Veteran", "Pangeran Antasari", "Cendrawasih",
    "Merpati", "Kutilang", "Flamboyan", "Anggrek", "Melati", "Kenanga", "Dahlia", "Kamboja", "Pupuk Raya",
)  # fmt: skip
# The first four digits of a NIK name the regency or city of the card (people move: not only this region).
NIK_AREAS = ("6471", "6472", "6402", "6409", "7371", "3578", "3171", "1271", "6371", "7471", "3374", "5171")
ACTIVITIES = (
    "Rapat anggota tahunan", "Bakti sosial", "Pelatihan kewirausahaan", "Gotong royong lingkungan",
    "Penyuluhan kesehatan", "Lomba olahraga antarwarga", "Pentas seni budaya", "Santunan anak yatim",
    "Penanaman pohon", "Diskusi publik", "Donor darah", "Pelatihan literasi digital",
)  # fmt: skip
REASONS = (
    "Akta notaris tidak terbaca; mohon unggah salinan yang jelas",
    "Surat keterangan domisili sudah kedaluwarsa",
    "Susunan pengurus berbeda dengan SK kepengurusan",
    "NPWP organisasi belum dilampirkan",
    "Alamat sekretariat tidak sesuai dengan hasil verifikasi lapangan",
    "Laporan kegiatan belum ditandatangani ketua dan sekretaris",
    "Masa bakti pengurus telah berakhir; lampirkan SK kepengurusan yang baru",
    "Nama organisasi menyerupai nama organisasi lain yang telah terdaftar",
)
NOTES = (
    "Berkas lengkap", "Mohon diproses", "Sudah diperiksa", "Sesuai hasil verifikasi lapangan",
    "Perbaikan sudah dilengkapi", "Mohon ditindaklanjuti", "Dokumen asli telah diperlihatkan",
)  # fmt: skip
FILE_NAMES = {
    "cover_letter": "surat-permohonan", "legal_basis": "sk-kemenkumham", "deed": "akta-notaris",
    "work_programme": "program-kerja", "board_biodata": "biodata-pengurus", "npwp": "npwp",
    "domicile": "surat-domisili", "office_proof": "bukti-sekretariat", "statements": "surat-pernyataan",
    "field_photo": "foto-lapangan", "field_report": "berita-acara", "activity_report": "laporan-kegiatan",
    "board_decree": "sk-kepengurusan", "other": "lampiran",
}  # fmt: skip


def person(rng: random.Random) -> tuple[str, bool]:
    """A full name and whether it is a woman's (the NIK's birth day says so)."""
    woman = rng.random() < 0.45
    given = rng.choice(WOMEN if woman else MEN)
    return (given if rng.random() < 0.12 else f"{given} {rng.choice(FAMILY)}"), woman


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", ".", text.lower()).strip(".")


def organisation_name(rng: random.Random, place: str) -> str:
    roll = rng.random()
    if roll < 0.15:
        return f"{rng.choice(COMMUNITIES)} {place}"
    if roll < 0.3:
        return rng.choice(FAITH) + (f" {place}" if rng.random() < 0.5 else "")
    return f"{rng.choice(KINDS)} {rng.choice(CAUSES)} {place}"


def abbreviation(name: str) -> str:
    return "".join(word[0] for word in name.split() if word[0].isupper())[:30] or name[:3].upper()


def legal_form_of(rng: random.Random, name: str) -> str:
    """A yayasan or a perkumpulan says so in its name; any other ormas is one or is not a legal entity."""
    if name.startswith("Yayasan"):
        return "badan_hukum_yayasan"
    if name.startswith("Perkumpulan"):
        return "badan_hukum_perkumpulan"
    return rng.choices(("badan_hukum_perkumpulan", "tidak_berbadan_hukum"), weights=(4, 5))[0]


def nik(rng: random.Random, born: dt.date, woman: bool) -> str:
    day = born.day + (40 if woman else 0)
    birth = f"{day:02d}{born.month:02d}{born.year % 100:02d}"
    return f"{rng.choice(NIK_AREAS)}{rng.randint(1, 12):02d}{birth}{rng.randint(1, 9999):04d}"


def mobile(rng: random.Random) -> str:
    return f"08{rng.randint(11, 89)}{rng.randint(0, 10**8 - 1):08d}"


def legal_number(rng: random.Random, legal_form: str, year: int) -> str:
    serial = rng.randint(1, 9_999_999)
    if legal_form == "badan_hukum_perkumpulan":
        return f"AHU-{serial:07d}.AH.01.07.{year}"
    if legal_form == "badan_hukum_yayasan":
        return f"AHU-{serial:07d}.AH.01.04.{year}"
    months = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
    return f"{serial % 1000:03d}/D.III.3/{rng.choice(months)}/{year}"


def board_member(rng: random.Random, position: str, term_start: dt.date) -> dict[str, Any]:
    name, woman = person(rng)
    born = dt.date(rng.randint(1955, 2000), rng.randint(1, 12), rng.randint(1, 28))
    return {
        "position": position,
        "name": name,
        "nik": nik(rng, born, woman),
        "phone": mobile(rng),
        "term_start": term_start.isoformat(),
        "term_end": dt.date(term_start.year + 5, term_start.month, min(term_start.day, 28)).isoformat(),
    }


def organisation_profile(
    rng: random.Random, index: int, recorded_on: dt.date, region_name: str, kecamatan: dict[str, list[str]]
) -> dict[str, Any]:
    """The payload of `record_organisation` (contracts.organisations.OrganisationCreate) for one ormas."""
    district = rng.choice(sorted(kecamatan))
    village = rng.choice(kecamatan[district])
    place = village if rng.random() < 0.4 else region_name.removeprefix("Kota ").removeprefix("Kabupaten ")
    name = organisation_name(rng, place)
    legal_form = legal_form_of(rng, name)
    founded_on = recorded_on - dt.timedelta(days=rng.randint(30, 25 * 365))
    term_start = max(founded_on, recorded_on - dt.timedelta(days=rng.randint(0, 4 * 365)))
    return {
        "name": name,
        "abbreviation": abbreviation(name) if rng.random() < 0.7 else None,
        "legal_form": legal_form,
        "legal_number": legal_number(rng, legal_form, founded_on.year),
        "founded_on": founded_on.isoformat(),
        "field_of_activity": rng.choice(FIELDS),
        "address": {
            "street": f"Jl. {rng.choice(STREETS)} No. {rng.randint(1, 250)} RT {rng.randint(1, 60):02d}",
            "kecamatan": district,
            "kelurahan": village,
        },
        "npwp": f"{rng.randint(1, 99):02d}.{rng.randint(0, 999):03d}.{rng.randint(0, 999):03d}."
        f"{rng.randint(0, 9)}-{rng.randint(0, 999):03d}.000",
        "phone": mobile(rng),
        "email": f"sekretariat.{index}@{DEMO_MAIL_DOMAIN}",
        "board": [board_member(rng, position, term_start) for position in ("ketua", "sekretaris", "bendahara")],
    }


def applicant_email(name: str, index: int) -> str:
    """The secretary's own address (an account is keyed by it: the index keeps it unique)."""
    return f"{slug(name)}.{index}@{DEMO_MAIL_DOMAIN}"


def staff_email(name: str, number: int) -> str:
    return f"{slug(name)}.{number}@{STAFF_MAIL_DOMAIN}"


def attachment(rng: random.Random, kind: str) -> dict[str, Any]:
    """What the gateway passes on for an uploaded file (the demo data stores no file content)."""
    return {
        "file_id": f"{rng.getrandbits(128):032x}",
        "kind": kind,
        "filename": f"{FILE_NAMES.get(kind, kind)}.pdf",
        "size": rng.randint(40_000, 3_000_000),
        "sha256": f"{rng.getrandbits(256):064x}",
    }

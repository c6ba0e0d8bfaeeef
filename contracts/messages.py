"""Bahasa Indonesia texts of the error messages people may see: one catalogue, keyed by the English text.

Raise sites keep writing one English message; ``indonesian`` finds the entry whose English template
the message fits (``case {case_id} not found``), fills the Bahasa template with the same values and
names the field at fault. pydantic's own messages are keyed by pydantic's templates (read from
pydantic-core, so they follow its wording), which is why a validation error relayed by a service as
plain text is translated the same as one raised in the gateway. A message without an entry gets the
generic text of its error code: never English alone. Error bodies carry both texts.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable

from pydantic_core import _pydantic_core as pydantic_core

# {field} in a Bahasa template becomes the subject of the sentence, e.g. "Kolom 'board.0.nik'".
_SUBJECTS = {"query": "Parameter", "path": "Parameter", "header": "Header", "cookie": "Cookie"}
_WHOLE_BODY = "Isi permintaan"
# pydantic puts these before a validator's own message; the message alone is what people should read.
_WRAPPERS = ("Value error, ", "Assertion failed, ")

# pydantic error type -> Bahasa template (placeholders from the type's context).
_PYDANTIC = {
    "missing": "{field} wajib diisi.",
    "missing_argument": "{field} wajib diisi.",
    "string_too_short": "{field} minimal {min_length} karakter.",
    "string_too_long": "{field} maksimal {max_length} karakter.",
    "too_short": "{field} minimal berisi {min_length} butir.",
    "too_long": "{field} maksimal berisi {max_length} butir.",
    "string_pattern_mismatch": "{field} tidak sesuai format yang diminta (pola {pattern}).",
    "string_type": "{field} harus berupa teks.",
    "string_unicode": "{field} harus berupa teks UTF-8.",
    "int_type": "{field} harus berupa bilangan bulat.",
    "int_parsing": "{field} harus berupa bilangan bulat.",
    "int_from_float": "{field} harus berupa bilangan bulat.",
    "float_type": "{field} harus berupa angka.",
    "float_parsing": "{field} harus berupa angka.",
    "bool_type": "{field} harus bernilai true atau false.",
    "bool_parsing": "{field} harus bernilai true atau false.",
    "greater_than": "{field} harus lebih besar dari {gt}.",
    "greater_than_equal": "{field} harus lebih besar dari atau sama dengan {ge}.",
    "less_than": "{field} harus lebih kecil dari {lt}.",
    "less_than_equal": "{field} harus lebih kecil dari atau sama dengan {le}.",
    "enum": "{field} harus salah satu dari: {expected}.",
    "literal_error": "{field} harus salah satu dari: {expected}.",
    "model_type": "{field} harus berupa objek JSON.",
    "model_attributes_type": "{field} harus berupa objek JSON.",
    "dict_type": "{field} harus berupa objek JSON.",
    "list_type": "{field} harus berupa daftar (array JSON).",
    "date_type": "{field} harus berupa tanggal dengan format YYYY-MM-DD.",
    "date_parsing": "{field} harus berupa tanggal dengan format YYYY-MM-DD.",
    "date_from_datetime_parsing": "{field} harus berupa tanggal dengan format YYYY-MM-DD.",
    "date_from_datetime_inexact": "{field} harus berupa tanggal dengan format YYYY-MM-DD.",
    "datetime_type": "{field} harus berupa tanggal dan waktu ISO 8601, mis. 2026-03-02T10:00:00+08:00.",
    "datetime_parsing": "{field} harus berupa tanggal dan waktu ISO 8601, mis. 2026-03-02T10:00:00+08:00.",
    "datetime_from_date_parsing": "{field} harus berupa tanggal dan waktu ISO 8601, mis. 2026-03-02T10:00:00+08:00.",
    "timezone_aware": "{field} harus mencantumkan zona waktu.",
    "uuid_type": "{field} harus berupa UUID.",
    "uuid_parsing": "{field} harus berupa UUID.",
    "extra_forbidden": "{field} tidak dikenal.",
    "none_required": "{field} harus null.",
    "url_type": "{field} harus berupa URL yang valid.",
    "url_parsing": "{field} harus berupa URL yang valid.",
}

# English template (as raised) -> Bahasa template.
_TEXTS = {
    # sign-in and identity
    "wrong e-mail or password": "Alamat e-mail atau kata sandi salah. Silakan coba lagi.",
    "sign in first (POST /api/session)": "Silakan masuk terlebih dahulu (POST /api/session).",
    "your session has expired; please sign in again": "Sesi Anda telah berakhir; silakan masuk kembali.",
    "the session token is invalid; please sign in again": "Token sesi tidak sah; silakan masuk kembali.",
    "missing caller identity": "Identitas pemanggil tidak ada.",
    "caller identity signature is invalid": "Tanda tangan identitas pemanggil tidak sah.",
    "caller identity has expired": "Identitas pemanggil sudah kedaluwarsa.",
    "caller identity is malformed": "Identitas pemanggil tidak sah.",
    # permissions
    "role '{role}' may not do this (allowed: {allowed})":
        "Peran '{role}' tidak berhak melakukan tindakan ini (yang berhak: {allowed}).",
    "you may only read your own account": "Anda hanya dapat melihat akun Anda sendiri.",
    "you may only read your own organisation": "Anda hanya dapat melihat organisasi Anda sendiri.",
    "only staff list organisations": "Hanya petugas yang dapat melihat daftar organisasi.",
    "record your organisation first": "Daftarkan organisasi Anda terlebih dahulu.",
    "a request from another site was refused": "Permintaan dari situs lain ditolak.",
    "the document could not be produced correctly; the office has been told":
        "Dokumen tidak dapat dibuat dengan benar; kantor sudah diberi tahu.",
    "you may only read your own organisation's reports": "Anda hanya dapat melihat laporan organisasi Anda sendiri.",
    "a production system sweeps for the real date only": (
        "Sistem produksi hanya memeriksa tenggat untuk tanggal hari ini."
    ),
    "'today' must be an ISO 8601 date": "'today' harus berupa tanggal ISO 8601.",
    "unknown reporting status '{value}'": "Status pelaporan '{value}' tidak dikenal.",
    "you may only file for your own organisation":
        "Anda hanya dapat mengajukan permohonan untuk organisasi Anda sendiri.",
    # what does not exist
    "{record} {value} not found": "Data {record} {value} tidak ditemukan.",
    "no timeline yet for case {case_id}": "Riwayat status permohonan {case_id} belum tersedia.",
    "no letter with this verification code: it was not issued by this office":
        "Tidak ada surat dengan kode verifikasi ini: surat tersebut tidak diterbitkan oleh kantor ini.",
    "no letter has been issued for case {case_id}": "Belum ada surat yang diterbitkan untuk permohonan {case_id}.",
    "this case has no such attachment": "Permohonan ini tidak memiliki lampiran tersebut.",
    "verification code too long": "Kode verifikasi terlalu panjang.",
    "no such address: {path}": "Alamat {path} tidak ditemukan.",
    "'{workflow}' has no action '{action}' (actions: {known})":
        "'{workflow}' tidak memiliki tindakan '{action}' (tindakan yang ada: {known}).",
    "no such colleague": "Petugas tersebut tidak ditemukan.",
    # input the services refuse
    "'{value}' is not a valid {record} id": "'{value}' bukan id {record} yang sah.",
    "unknown kecamatan '{kecamatan}'": "Kecamatan '{kecamatan}' tidak dikenal.",
    "kelurahan '{kelurahan}' is not in kecamatan '{kecamatan}'":
        "Kelurahan '{kelurahan}' tidak termasuk Kecamatan '{kecamatan}'.",
    "unknown status '{status}'": "Status '{status}' tidak dikenal.",
    "unknown service '{service}'": "Layanan '{service}' tidak dikenal.",
    "version must be between 1 and {last}": "Versi harus antara 1 dan {last}.",
    "the case did not exist at that time": "Permohonan belum ada pada waktu tersebut.",
    "'at' must be an ISO 8601 date-time": "'at' harus berupa tanggal dan waktu ISO 8601.",
    "Idempotency-Key must be 8-100 letters, digits, '-' or '_'":
        "Idempotency-Key harus 8-100 huruf, angka, '-' atau '_'.",
    "this Idempotency-Key was already used for a different step; use a new key":
        "Idempotency-Key ini sudah dipakai untuk langkah lain; gunakan kunci baru.",
    "this Idempotency-Key was already used for a different filing; use a new key":
        "Idempotency-Key ini sudah dipakai untuk pengajuan lain; gunakan kunci baru.",
    "no such file among your uploads; upload it first with POST /api/files":
        "Berkas tidak ada di antara unggahan Anda; unggah terlebih dahulu dengan POST /api/files.",
    "the file is empty": "Berkas kosong.",
    "only PDF documents are accepted": "Hanya dokumen PDF yang diterima.",
    "a reason is required for this action": "Tindakan ini memerlukan alasan.",
    "this action takes no reason (use note)": "Tindakan ini tidak memakai alasan (gunakan catatan).",
    "attach at least one file": "Lampirkan sekurang-kurangnya satu berkas.",
    "this action takes no files": "Tindakan ini tidak menerima berkas.",
    "this action takes files of kinds: {kinds}": "Tindakan ini hanya menerima berkas jenis: {kinds}.",
    "the form is required for this action": "Tindakan ini memerlukan formulir.",
    "this action takes no form": "Tindakan ini tidak memakai formulir.",
    "the form is required": "Formulir wajib diisi.",
    "attach: {kinds}": "Lampirkan: {kinds}.",
    "attach at least {count} file(s)": "Lampirkan sekurang-kurangnya {count} berkas.",
    "a report can only be made once its period has begun": "Laporan baru dapat dibuat setelah periodenya dimulai.",
    "'{service}' takes no form": "Layanan '{service}' tidak memakai formulir.",
    "'{service}' takes files of kinds: {kinds}": "Layanan '{service}' hanya menerima berkas jenis: {kinds}.",
    "a report for {period} exists already ({reference})": "Laporan untuk {period} sudah ada ({reference}).",
    "this report is for {subject}; file a new report for {period}":
        "Laporan ini untuk {subject}; buat laporan baru untuk {period}.",
    "a report for {period} can be sent from {date}": "Laporan untuk {period} dapat dikirim mulai {date}.",
    "list the period's activities, or report that there were none":
        "Cantumkan kegiatan dalam periode, atau nyatakan bahwa tidak ada kegiatan.",
    "a report of no activity lists no activities": "Laporan tanpa kegiatan tidak mencantumkan kegiatan.",
    "an activity of {period} is held between {start} and {end}":
        "Kegiatan periode {period} dilaksanakan antara {start} dan {end}.",
    "name the colleague to hand the case to": "Sebutkan petugas yang akan menerima permohonan ini.",
    "the case can only be handed to staff who may work on it":
        "Permohonan hanya dapat diserahkan kepada petugas yang berwenang menanganinya.",
    "this action names no assignee": "Tindakan ini tidak memakai penerima tugas.",
    # validators of the contracts (the field is named by the error)
    "must not be in the future": "{field} tidak boleh berisi tanggal di masa depan.",
    "must not be before {date}": "{field} tidak boleh sebelum {date}.",
    "must be after term_start": "{field} harus sesudah term_start.",
    "must not be before the founding date (founded_on)": "{field} tidak boleh sebelum tanggal pendirian (founded_on).",
    "board needs exactly one ketua, one sekretaris and one bendahara":
        "Pengurus harus terdiri atas tepat satu ketua, satu sekretaris, dan satu bendahara.",
    "value is not a valid email address: {reason}": "{field} bukan alamat e-mail yang valid.",
    "must be a single line (no line breaks or tabs)": "{field} harus satu baris (tanpa ganti baris atau tab).",
    "must be plain text: contains {what} (U+{code})": "{field} harus teks biasa: berisi karakter khusus (U+{code}).",
    "contains characters the letters cannot print: {characters}":
        "{field} berisi karakter yang tidak dapat dicetak pada surat: {characters}.",
    # the request itself
    "the PDF has {pages} pages; at most {limit} are accepted":
        "PDF berisi {pages} halaman; paling banyak {limit} halaman.",
    "the PDF contains active content ({what}); save it again without it":
        "PDF berisi konten aktif ({what}); simpan ulang tanpa konten tersebut.",
    "the PDF could not be checked in time; save it again as a simpler PDF":
        "PDF tidak dapat diperiksa tepat waktu; simpan ulang sebagai PDF yang lebih sederhana.",
    "the PDF could not be checked; save it again as a simpler PDF":
        "PDF tidak dapat diperiksa; simpan ulang sebagai PDF yang lebih sederhana.",
    "the request body is not valid JSON": "Isi permintaan bukan JSON yang valid.",
    "There was an error parsing the body": "Isi permintaan tidak dapat dibaca.",
    "the body must be sent as {media_type}": "Isi permintaan harus dikirim sebagai {media_type}.",
    "the file is larger than the limit of {limit} bytes": "Berkas melebihi batas {limit} bita.",
    "the file is larger than the limit of {limit}": "Berkas melebihi batas {limit}.",
    "your files not attached to a case would exceed the limit of {limit}; attach them or wait until the "
    "unattached ones expire": "Berkas Anda yang belum dilampirkan pada permohonan akan melebihi batas {limit}; "
    "lampirkan atau tunggu sampai berkas yang tidak dilampirkan kedaluwarsa.",
    "the file was refused by the virus scanner": "Berkas ditolak oleh pemindai virus.",
    "the upload scanner is not available; try again later":
        "Pemindai berkas sedang tidak tersedia; silakan coba lagi nanti.",
    "the request body is larger than the limit of {limit}": "Isi permintaan melebihi batas {limit}.",
    "too many requests ({rule}: at most {limit}); try again later":
        "Terlalu banyak permintaan ({rule}: paling banyak {limit}); silakan coba lagi nanti.",
    "{method} is not allowed here; use {allowed}": "Metode {method} tidak diizinkan di alamat ini; gunakan {allowed}.",
    "this page cursor is not valid; start again from the first page":
        "Penanda halaman (cursor) tidak valid; mulai lagi dari halaman pertama.",
    # confirming the address
    "only the notifications service writes to accounts": "Hanya layanan notifikasi yang mengirim e-mail ke akun.",
    "this confirmation link is not valid or has expired; ask for a new one":
        "Tautan konfirmasi ini tidak berlaku atau sudah kedaluwarsa; mintalah tautan baru.",
    "this address is confirmed already; sign in": "Alamat ini sudah dikonfirmasi; silakan masuk.",
    "this account was never confirmed and has expired; sign up again":
        "Akun ini tidak pernah dikonfirmasi dan sudah kedaluwarsa; silakan mendaftar lagi.",
    "confirm your e-mail address first: follow the link in the mail we sent (or ask for a new one)":
        "Konfirmasikan alamat e-mail Anda terlebih dahulu: ikuti tautan dalam e-mail yang kami kirim "
        "(atau minta tautan baru).",
    # state
    "an account with this e-mail already exists": "Akun dengan alamat e-mail ini sudah ada.",
    "this account already manages an organisation": "Akun ini sudah mengelola sebuah organisasi.",
    "record your organisation before filing": "Daftarkan organisasi Anda sebelum mengajukan permohonan.",
    "cannot {action} a case that is {status} ({label})":
        "Tindakan '{action}' tidak dapat dilakukan pada permohonan berstatus {label}.",
    "cannot {action} a case that is {status}": "Tindakan ini tidak dapat dilakukan pada permohonan berstatus {status}.",
    "first: {labels}": "Lakukan terlebih dahulu: {labels}.",
    "the {record} was changed by someone else at the same moment; try again":
        "Data {record} diubah oleh orang lain pada saat yang sama; silakan coba lagi.",
    # the system
    "a service failed while handling the request; please try again later (reference {reference})":
        "Sebuah layanan gagal memproses permintaan; silakan coba lagi nanti (referensi {reference}).",
    "the service is temporarily unavailable; please retry": "Layanan sedang tidak tersedia; silakan coba lagi.",
    "an unexpected error occurred (reference {reference})": "Terjadi kesalahan tak terduga (referensi {reference}).",
}  # fmt: skip

# Per error code, when a message has no entry of its own.
GENERIC = {
    "bad_request": "Permintaan tidak dapat diproses.",
    "invalid_input": "{field} tidak valid.",
    "malformed_json": "Isi permintaan bukan JSON yang valid.",
    "not_authenticated": "Silakan masuk terlebih dahulu.",
    "forbidden": "Anda tidak berhak melakukan tindakan ini.",
    "not_found": "Data yang diminta tidak ditemukan.",
    "method_not_allowed": "Metode HTTP ini tidak diizinkan di alamat ini.",
    "conflict": "Tindakan ini tidak dapat dilakukan pada keadaan data saat ini.",
    "too_large": "Permintaan melebihi batas ukuran.",
    "rate_limited": "Terlalu banyak permintaan; silakan coba lagi nanti.",
    "unsupported_media_type": "Jenis isi permintaan tidak didukung.",
    "service_error": "Sebuah layanan gagal memproses permintaan; silakan coba lagi nanti.",
    "service_unavailable": "Layanan sedang tidak tersedia; silakan coba lagi.",
    "internal_error": "Terjadi kesalahan tak terduga.",
}
_ANY = GENERIC["bad_request"]

# Values that are English words inside an otherwise translated sentence.
_RECORDS = {"case": "permohonan", "organisation": "organisasi", "account": "akun", "letter": "surat"}
_VALUES: dict[str, Callable[[str], str]] = {
    "record": lambda name: _RECORDS.get(name, name),  # "case", as the services name what they keep
    "expected": lambda text: text.replace(" or ", " atau "),  # "'a', 'b' or 'c'"
    "characters": lambda text: text.replace(" and ", " dan ").replace(" more", " lainnya"),  # "🙂 (U+1F642) and 2 more"
}


class _Entry:
    def __init__(self, english: str, bahasa: str) -> None:
        pattern, seen, self.literal = [], set(), 0
        for text, name, _spec, _conversion in string.Formatter().parse(english):
            pattern.append(re.escape(text))
            self.literal += len(text)
            if name is not None:  # a name used twice must hold the same value both times
                pattern.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
                seen.add(name)
        self.regex = re.compile("".join(pattern), re.DOTALL)
        self.bahasa = bahasa

    def render(self, message: str, subject: str) -> str | None:
        found = self.regex.fullmatch(message)
        if found is None:
            return None
        values = {name: _VALUES.get(name, str)(value) for name, value in found.groupdict().items()}
        return self.bahasa.format_map(values | {"field": subject})


def _entries() -> list[_Entry]:
    templates = {error["type"]: error["message_template_python"] for error in pydantic_core.list_all_errors()}
    pairs = {templates[kind]: bahasa for kind, bahasa in _PYDANTIC.items() if kind in templates} | _TEXTS
    # Most literal text first: "Input should be a valid string" must not fall to "Input should be {expected}".
    return sorted((_Entry(english, bahasa) for english, bahasa in pairs.items()), key=lambda e: -e.literal)


_CATALOGUE = _entries()


def unwrapped(message: str) -> str:
    """A validator's message without pydantic's "Value error, " before it."""
    for wrapper in _WRAPPERS:
        message = message.removeprefix(wrapper)
    return message


def subject(field: str | None, where: str = "body") -> str:
    """How a Bahasa sentence names the input at fault."""
    if not field or field == "body":
        return _WHOLE_BODY
    return f"{_SUBJECTS.get(where, 'Kolom')} '{field}'"


def indonesian(code: str, message: str, field: str | None = None, where: str = "body") -> str:
    """The Bahasa Indonesia text of an error: its catalogue entry, else the generic text of its code."""
    named = subject(field, where)
    for entry in _CATALOGUE:
        text = entry.render(unwrapped(message), named)
        if text is not None:
            return text
    return GENERIC.get(code, _ANY).format(field=named)

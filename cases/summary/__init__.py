"""The bilingual case summary coordinators draft and translators translate."""

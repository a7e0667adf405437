"""Cell values as people type them: 和暦 years, dates, grades, amounts, full-width digits."""

# How an amount is written: the number comes formatted by CLDR (ICU4X) for the locale;
# these say where the currency goes. A currency with a symbol here uses it, others their
# ISO 4217 code.
money-with-symbol = { $symbol }{ $number }
money-with-code = { $code } { $number }
currency-symbol-EUR = €
currency-symbol-GBP = £
# The language's own name, in that language (shown in language pickers).
language-name = English

money-with-symbol = { $number } { $symbol }
money-with-code = { $number } { $code }
currency-symbol-EUR = €
currency-symbol-GBP = £
language-name = Français

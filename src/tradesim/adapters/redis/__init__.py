"""Redis adapters: the price bus on pub/sub (`price_bus`), its wire codec (`market_codec`)."""

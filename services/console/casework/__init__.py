"""Working a letter's case on its page: acceptance, the handling slip, units, handler, calls,
transfers, sensitivity and the national-security lock, and the letter's timeline."""

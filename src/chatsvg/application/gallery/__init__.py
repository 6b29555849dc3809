"""Gallery: a user's generations, downloads and the public gallery."""

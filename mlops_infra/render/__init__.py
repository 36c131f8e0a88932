"""Human and machine renderings of a captured stack."""

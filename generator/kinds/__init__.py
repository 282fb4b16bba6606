"""The content kinds: each declares itself once; the registry drives everything else."""

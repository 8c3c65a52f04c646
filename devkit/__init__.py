"""Development tooling: the platform simulator, scripted people, the demo, the benchmarks
and the local stack's launcher. Not part of the product: the wheel and the production
image leave it out, and no module under `services/` or `shared/` imports it."""

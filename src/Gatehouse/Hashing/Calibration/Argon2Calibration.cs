namespace Gatehouse.Hashing.Calibration;

/// <summary>What <c>calibrate</c> starts from: Kratos's <c>calibrate</c> flags.</summary>
/// <param name="Start">The parameters to probe first: memory and iterations from <c>--start-memory</c> and <c>--start-iterations</c>, the rest from the config and flags.</param>
/// <param name="RequestsPerMinute">The login rate the load tests simulate.</param>
/// <param name="ProbeRuns">Hashes per probe (<c>--probe-runs</c>); the probe's result is their mean time.</param>
/// <param name="MaxMemory">The most memory a hash may get (<c>--max-memory</c>); 0 for no limit.</param>
/// <param name="AdjustMemoryBy">The memory step while probing (<c>--adjust-memory-by</c>).</param>
public sealed record Argon2CalibrationRequest(Argon2Parameters Start, int RequestsPerMinute, int ProbeRuns, long MaxMemory, long AdjustMemoryBy);

/// <summary>One load test of the calibration and the parameters it ran with.</summary>
public sealed record Argon2Measurement(Argon2LoadTestResult Result, Argon2Parameters Parameters);

/// <summary>
/// The calibration's outcome: the parameters it settled on, or none when five load tests found nothing acceptable
/// (Kratos then prints every <see cref="Measurements"/> for the operator to choose from).
/// </summary>
public sealed record Argon2Calibration(Argon2Parameters? Chosen, IReadOnlyList<Argon2Measurement> Measurements);

using Tripswitch.Testing.Redis;
using Xunit;

// One redis-server for every test that does not need its own (tests stay independent through unique key prefixes).
[assembly: AssemblyFixture(typeof(SharedRedis))]

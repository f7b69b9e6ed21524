using System.Text;
using CsCheck;
using Tripswitch.Gateway.Configuration;
using Tripswitch.Gateway.Forwarding;
using Tripswitch.Gateway.Tests.Infrastructure;
using Xunit;

namespace Tripswitch.Gateway.Tests.Forwarding;

/// <summary>
/// The gateway's one reading of a body (<see cref="RequestJson"/>) against a last-key-wins reader (what providers run),
/// over random and hostile bodies: it never throws, it accepts exactly the bodies every reader reads as one string
/// model, it reads that same model, and a fallback's rewrite changes the model and nothing else.
/// </summary>
public sealed class RequestJsonPropertyTests
{
    [Fact]
    public void TryReadModel_AcceptsExactlyTheBodiesWithOneStringModel_AndReadsTheModelALastWinsReaderReads()
    {
        Check.Sample(HostileJson.Bytes, static body =>
        {
            bool accepted = RequestJson.TryReadModel(body, out ModelToken model, out BodyProblem problem);
            LastWinsJson.Reading provider = LastWinsJson.Read(body, GatewayDefaults.MaxRequestBodyDepth);

            Assert.Equal(provider.Unambiguous, accepted);
            if (accepted)
            {
                Assert.Equal(provider.Model, model.Value);
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(problem.Code));
                Assert.False(string.IsNullOrEmpty(problem.Message));
            }
        }, iter: 2500, print: Show);
    }

    [Fact]
    public void WithModel_OnAnyAcceptedBody_LeavesExactlyOneModel_TheNewOne_AndEveryOtherMemberUnchanged()
    {
        Check.Sample(HostileJson.Bytes, static bytes =>
        {
            if (!RequestJson.TryReadModel(bytes, out _, out _))
            {
                return;
            }

            using RequestBody body = RequestBodyOf(bytes);
            byte[] rewritten = body.WithModel("\"gpt-4.1-mini\""u8);

            LastWinsJson.Reading provider = LastWinsJson.Read(rewritten, GatewayDefaults.MaxRequestBodyDepth);
            Assert.True(provider.Unambiguous);
            Assert.Equal("gpt-4.1-mini", provider.Model);
            Assert.Equal(LastWinsJson.OtherValues(bytes), LastWinsJson.OtherValues(rewritten));
            Assert.True(RequestJson.TryReadModel(rewritten, out ModelToken again, out _));
            Assert.Equal("gpt-4.1-mini", again.Value);
        }, iter: 1500, print: Show);
    }

    [Theory]
    [InlineData("""{"model":"gpt-4.1-mini","model":"o1-pro"}""", "duplicate_model")]
    [InlineData("""{"model":"gpt-4.1-mini","mod\u0065l":"o1-pro"}""", "duplicate_model")]
    [InlineData("""{"model":1,"model":"gpt-4.1"}""", "invalid_model")]
    [InlineData("""{"model":null}""", "invalid_model")]
    [InlineData("""{"model":"\ud800"}""", "invalid_model")]
    [InlineData("""{"messages":[{"model":"gpt-4.1"}]}""", "missing_model")]
    [InlineData("""{"model":"gpt-4.1"} {}""", "invalid_json")]
    [InlineData("""{"model":"gpt-4.1",}""", "invalid_json")]
    [InlineData("""{"model":"gpt-4.1" /* c */}""", "invalid_json")]
    [InlineData("{\"model\":\"gpt-4.1\"", "invalid_json")]
    [InlineData("", "invalid_json")]
    [InlineData("""["model","gpt-4.1"]""", "invalid_body")]
    [InlineData("\"gpt-4.1\"", "invalid_body")]
    public void TryReadModel_RefusesAmbiguousOrInvalidBodies_NamingTheProblem(string json, string code)
    {
        Assert.False(RequestJson.TryReadModel(Encoding.UTF8.GetBytes(json), out _, out BodyProblem problem));
        Assert.Equal(code, problem.Code);
    }

    [Fact]
    public void TryReadModel_RefusesInvalidUtf8_AndNestingPastTheLimit()
    {
        byte[] invalid = [.. "{\"model\":\"gpt-4.1\",\"x\":\""u8, 0xFF, .. "\"}"u8];
        string deep = "{\"model\":\"gpt-4.1\",\"x\":" + new string('[', GatewayDefaults.MaxRequestBodyDepth) + new string(']', GatewayDefaults.MaxRequestBodyDepth) + "}";
        string deepest = "{\"model\":\"gpt-4.1\",\"x\":" + new string('[', GatewayDefaults.MaxRequestBodyDepth - 1) + new string(']', GatewayDefaults.MaxRequestBodyDepth - 1) + "}";

        Assert.False(RequestJson.TryReadModel(invalid, out _, out BodyProblem utf8));
        Assert.Equal("The request body is not valid UTF-8.", utf8.Message);
        Assert.False(RequestJson.TryReadModel(Encoding.UTF8.GetBytes(deep), out _, out BodyProblem depth));
        Assert.Contains("depth", depth.Message, StringComparison.OrdinalIgnoreCase);
        Assert.True(RequestJson.TryReadModel(Encoding.UTF8.GetBytes(deepest), out ModelToken model, out _));
        Assert.Equal("gpt-4.1", model.Value);
    }

    [Fact]
    public void TryReadModel_IgnoresNestedModelKeys_AndReadsAnEscapedModel()
    {
        byte[] body = Encoding.UTF8.GetBytes("""{"messages":[{"model":"o1-pro","content":{"model":2}}],"mod\u0065l":"gpt\u002d4.1","tools":{"model":"x"}}""");

        Assert.True(RequestJson.TryReadModel(body, out ModelToken model, out _));
        Assert.Equal("gpt-4.1", model.Value);
        Assert.Equal("\"gpt\\u002d4.1\"", Encoding.UTF8.GetString(body, model.Start, model.Length));
    }

    private static RequestBody RequestBodyOf(byte[] bytes)
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Body = new MemoryStream(bytes);
        return RequestBody.ReadAsync(context.Request, GatewayDefaults.MaxMaxRequestBodyBytes, CancellationToken.None).AsTask().GetAwaiter().GetResult()!;
    }

    /// <summary>Prints a failing body readably (long runs cut), with its bytes when it isn't UTF-8.</summary>
    private static string Show(byte[] body)
    {
        string text = Encoding.UTF8.GetString(body);
        return (text.Length > 300 ? text[..300] + $"… ({body.Length} bytes)" : text) + (System.Text.Unicode.Utf8.IsValid(body) ? "" : " [invalid UTF-8: " + Convert.ToHexString(body.AsSpan(0, Math.Min(body.Length, 64))) + "]");
    }
}

import Foundation
import JWTKit

/// A test RSA key pair standing in for Clerk's signing key; the JWKS below publishes its public half.
enum ClerkKeys {
    static let kid = "clerk-test-key"

    static let privateKeyPEM = """
        -----BEGIN PRIVATE KEY-----
        MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDIBoNK2aBGps6r
        ozAAM7FAEFKEUur3t5iZjm0C1AZ67zrLm5UELz+WXRRQCYivG1pYIevOvpyoYKYS
        Qx0m1ZtNkoNm/H54pV/sGpADAOA3MvI3GFTSgTCymne3h1NMi9ZHDJbow+NXL0cx
        HIBQ+UabK6k89tu0ep5Fx6LWh5PmQqq4H0yXcgEMELjx+4/38SgSEx+r8jj2jGX2
        v0OhtUnbpPHkLFpUlYSslkPkAYr1GQR0rv1LiBvmfHWUinXWOMouWs6+zhlYQbfQ
        vHtMHDcf3fTOWgjV6m+/jH44aAy5wCfFO6QObC4XAerqkb6j1qRq5HKNfUvKHTQ0
        02BLvErBAgMBAAECggEAHdz/EBdCuxmfZHe2LGmLTpXBRBk/FGHYSiC9/LycBRGf
        dROS4W+ObkwSQsrRmdcbG2phEtpZeDgJw1M60Hf2ulOkA6Wx2iBSnGTw2Enyr7sO
        95PN4inAlAHE2uU81gJQqQXjp/fLAtK/rcDkFXLKDFOt7jiq35yo8aEXGjFervNE
        Ua2JkMlSxA1L0z3mi9NqBJM0CyIrL4mB2GWmOnkVU+wMWMqqo+Hc5AjiCZ7HAPla
        j+lI7yKFh+D6tGNZ3eXqco12n5SK/6TcoaxUb5agC2KralGuu9XIJRFmGlTFNJks
        zLlhc+D30pVVuE5ByaOWcAg1Uer8RS33komYdzczCwKBgQD1HJkbrqSINCO6t8HR
        eduHscJ3LUuCzLvvmyXbDD1duiZlI0Sz+a0Kt4dtXfIgPCmfI90QqLmpTLkvX4CD
        qBf+jHHfwbFqPmfCDzy5uErD1K+JDV4VZkIdabx6otVtkJvKT/zauZqtxAwe2eW9
        nasiYYebfGdirHoUiRF+yUNCswKBgQDQ6TH9TkuHK+JE5RvU0UKlOtsTJ+ZErB5D
        eL7zScgKjynMUp+9hZt+yYOhpYA7aV/pkSJ8oXXM3lMo+PpzSsvYdBzJIOZaTJLa
        QbqfNp76E40qVNwOSvm0agyULDOD5sR9iZiTerf/1QeN73h4zgnpXhPLaE7Mhwgw
        ILs/j3wmuwKBgQDvPlqzimNODpZRScsEi8ybRgZqDOwHX46Q8P6iL/A169xOG36T
        rMAaFck6FtieXhrCGl9MQ2P0u86FTtJBr3C8JJmBra1d5kugPv8mx5sySgaL32BV
        wtoFm488pHNt3hgyAKDtXPx9Xz31Xvm/eoXvqQKT4XmH9pGyOZe6CPh9wQKBgEIg
        3uMIyp2iBYC7aSDnkIoO5FPe+GPae8XtzbvjKgA1qwxzRv9N8JekoBcl9T5ZL7QW
        be03irtr0LUSguzFy1rb/lSoJmKFBKMz1SgauR393Fx++h1IHFzAiPTKPRBOlvoJ
        +RMN8Hp562dBW0gaKEcHsYpcnTzerXfWlI8dEzaLAoGAXWiwp7x+4NPvwAtLFtrF
        WXE95h4ADNAhc9I39WMm7F3j2ciaTV0JD9BpvrSKLJy+WWFTHrDnHC07xIJ98jy9
        Efux16Xq72oTatK9yNSctYWfOlF3rRcqPo7qjGK7pSwVT2Uf0z3y/bDKI9L29IJI
        p95iRTLlVPgBKzS92N4YsuQ=
        -----END PRIVATE KEY-----
        """

    static let jwks =
        #"{"keys":[{"kty":"RSA","kid":"clerk-test-key","use":"sig","alg":"RS256","e":"AQAB","n":"yAaDStmgRqbOq6MwADOxQBBShFLq97eYmY5tAtQGeu86y5uVBC8_ll0UUAmIrxtaWCHrzr6cqGCmEkMdJtWbTZKDZvx-eKVf7BqQAwDgNzLyNxhU0oEwspp3t4dTTIvWRwyW6MPjVy9HMRyAUPlGmyupPPbbtHqeRcei1oeT5kKquB9Ml3IBDBC48fuP9_EoEhMfq_I49oxl9r9DobVJ26Tx5CxaVJWErJZD5AGK9RkEdK79S4gb5nx1lIp11jjKLlrOvs4ZWEG30Lx7TBw3H930zloI1epvv4x-OGgMucAnxTukDmwuFwHq6pG-o9akauRyjX1Lyh00NNNgS7xKwQ"}]}"#

    struct SessionClaims: JWTPayload {
        var sub: SubjectClaim
        var exp: ExpirationClaim
        var nbf: NotBeforeClaim
        var azp: String?
        var iss: IssuerClaim

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func sessionToken(user: String, expires: Date = Date().addingTimeInterval(60), party: String? = "https://harnesshe.ro")
        async throws -> String
    {
        let keys = JWTKeyCollection()
        await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: privateKeyPEM), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        return try await keys.sign(
            SessionClaims(
                sub: .init(value: user), exp: .init(value: expires), nbf: .init(value: Date().addingTimeInterval(-10)), azp: party,
                iss: .init(value: "https://clerk.harnesshe.ro")),
            kid: JWKIdentifier(string: kid))
    }
}

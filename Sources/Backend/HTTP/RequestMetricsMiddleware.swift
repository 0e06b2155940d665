import Hummingbird

/// Counts requests by route template (not raw path, which would explode the label set),
/// method and status, and records their latency.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let metrics: ServiceMetrics

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws
        -> Response
    {
        let started = ContinuousClock.now
        let method = request.method.rawValue
        do {
            let response = try await next(request, context)
            record(method: method, route: context.endpointPath ?? "unmatched", status: Int(response.status.code), since: started)
            return response
        } catch let error as HTTPResponseError {
            record(method: method, route: context.endpointPath ?? "unmatched", status: Int(error.status.code), since: started)
            throw error
        } catch {
            record(method: method, route: context.endpointPath ?? "unmatched", status: 500, since: started)
            throw error
        }
    }

    private func record(method: String, route: String, status: Int, since started: ContinuousClock.Instant) {
        metrics.requests(method: method, route: route, status: status).increment()
        metrics.latency(method: method, route: route).record(ContinuousClock.now - started)
    }
}

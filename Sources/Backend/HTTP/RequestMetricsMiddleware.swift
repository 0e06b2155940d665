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
            metrics.recordRequest(
                method: method, route: context.endpointPath ?? "unmatched", status: Int(response.status.code), since: started)
            return response
        } catch {
            let status = (error as? HTTPResponseError).map { Int($0.status.code) } ?? 500
            metrics.recordRequest(method: method, route: context.endpointPath ?? "unmatched", status: status, since: started)
            throw error
        }
    }
}

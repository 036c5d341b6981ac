-- POST /oauth/introspect of one access token by a confidential client.
wrk.method = "POST"
wrk.body = "token=" .. os.getenv("BENCH_ACCESS_TOKEN")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")

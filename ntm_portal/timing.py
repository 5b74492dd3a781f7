"""Server-Timing: the CPU and wall time the server spent on a response, in a header the browser's developer tools
show and gunicorn's access log records (deploy/gunicorn.conf.py), so that each page's CPU cost can be read off a
real server under load (loadtest/summary.py) rather than estimated from the whole process.

Off unless SERVER_TIMING is set: the header tells anyone how long each request took to build.
"""

import time


class ServerTimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # thread_time: this thread's CPU alone, right under gunicorn's threaded workers too.
        started, started_cpu = time.perf_counter(), time.thread_time()
        response = self.get_response(request)
        cpu = (time.thread_time() - started_cpu) * 1000
        total = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f"cpu;dur={cpu:.1f}, app;dur={total:.1f}"
        return response

// corio/web.hpp: corio::web, aiohttp.web's server for async views (API.md
// section 11): application and router, request and response, web exceptions,
// run_app and app_runner with tcp_site / unix_site.
#pragma once

#include <corio/web/app_runner.hpp>
#include <corio/web/application.hpp>
#include <corio/web/errors.hpp>
#include <corio/web/multi_dict.hpp>
#include <corio/web/request.hpp>
#include <corio/web/response.hpp>
#include <corio/web/router.hpp>

# examples/mysql_get_data.py: the aiomysql original of mysql_get_data.cpp
# (Debian's python3-aiomysql), against the same server and table; the two
# print the same lines (tests/mysql/aiomysql_test.cpp checks it).
import asyncio
import os

import aiomysql


async def get_data(pool):
    async with pool.acquire() as connection:
        async with connection.cursor() as cursor:
            await cursor.execute('SELECT some_column FROM some_table;')
            print(await cursor.fetchall())


async def main():
    pool = await aiomysql.create_pool(host=os.environ['CORIO_MYSQL_HOST'], port=int(os.environ['CORIO_MYSQL_PORT']),
                                      user=os.environ['CORIO_MYSQL_USER'], password=os.environ['CORIO_MYSQL_PASSWORD'],
                                      db=os.environ['CORIO_MYSQL_DB'])
    await asyncio.gather(*[get_data(pool) for _ in range(10)])
    pool.close()
    await pool.wait_closed()


asyncio.run(main())

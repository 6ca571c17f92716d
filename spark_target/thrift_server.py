"""A Spark Thrift Server inside this process's Spark application, for ``bin/spark-parity --thrift``.

The pip distribution of pyspark ships the thrift server (``spark-hive-thriftserver`` jar), so a
running session can serve JDBC/thrift clients: dbt's ``spark_thrift`` output (dbt-spark
``method: thrift``) then sends its SQL there, while the Python jobs of the same run use the
session itself: one application, one metastore. On a real deployment the thrift server is its own
long-running application and the jobs are separate applications sharing its metastore service and
storage (docs/spark.md).

    with thrift_server(session) as port:   # listening on 127.0.0.1:<port>
        ...
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
BINARY_SERVICE = "org.apache.hive.service.cli.thrift.ThriftBinaryCLIService"


@contextmanager
def thrift_server(session: Any) -> Iterator[int]:
    """Serve ``session``'s application over thrift on 127.0.0.1 (a port the system picks, yielded);
    stopped when the block ends."""
    session.conf.set("hive.server2.thrift.bind.host", HOST)
    session.conf.set("hive.server2.thrift.port", "0")
    server_class = session._jvm.org.apache.spark.sql.hive.thriftserver.HiveThriftServer2
    server = server_class.startWithContext(session._jsparkSession.sqlContext())
    try:
        port = next(s.getPortNumber() for s in server.getServices() if s.getClass().getName() == BINARY_SERVICE)
        logger.info("Spark Thrift Server on %s:%d", HOST, port)
        yield port
    finally:
        server.stop()

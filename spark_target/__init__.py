"""The Spark target: everything that runs the dbt project on Apache Spark beside DuckDB.

* :mod:`spark_target.session`: the Spark session dbt-spark (``method: session``) opens, configured
  from the ``spark`` output of profiles.yml, and the Java check;
* :mod:`spark_target.inputs`: the raw tables (DuckDB's ``raw`` schema) and the LLM stage tables
  stored as Spark tables by Spark's writer before ``dbt build --target spark``;
* :mod:`spark_target.compare`: the row-by-row comparison of one table built by both engines;
* :mod:`spark_target.parity`: ``bin/spark-parity``, both builds from the same raw data and every mart
  compared, all Spark steps in one application;
* :mod:`spark_target.cluster`: a standalone master and worker on 127.0.0.1 (``--cluster``);
* :mod:`spark_target.thrift_server`: a Spark Thrift Server in the run's application (``--thrift``).
"""

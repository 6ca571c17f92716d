"""The Spark target: everything that runs the dbt project on Apache Spark beside DuckDB.

* :mod:`spark_target.session`: the Spark session dbt-spark (``method: session``) opens, configured
  from the ``spark`` output of profiles.yml, and the Java check;
* :mod:`spark_target.inputs`: the raw tables (DuckDB's ``raw`` schema exported to Parquet) and the
  LLM stage tables registered in Spark's metastore before ``dbt build --target spark``;
* :mod:`spark_target.compare`: the row-by-row comparison of one table built by both engines;
* :mod:`spark_target.parity`: ``bin/spark-parity``, both builds from the same raw data and every mart
  compared.
"""

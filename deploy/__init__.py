"""The scheduling and service examples (crontab, systemd units and timer), installed as the package
``cuttings_deploy`` so an installed cuttings has them (``cuttings docs`` lists them and prints where;
cuttings/paths.py: ``deploy_dir``). Nothing to import."""
